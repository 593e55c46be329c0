import { z } from 'zod';
import { alertPolicySchema, DEFAULT_ALERT_POLICY } from '../alerts/policy.ts';
import { anomalyModelParamsSchema } from '../model/anomaly-model.ts';
import { DEFAULT_FINE_TUNE, fineTuneSchema } from '../model/fine-tune.ts';

const paramShape = anomalyModelParamsSchema.shape;
import { kpiComputationSchema, kpiPeriodSchema } from '../kpi/kpi.ts';
import { mvSpecSchema } from '../kpi/mv/baseline-spec.ts';
import { opportunitiesSpecSchema } from '../kpi/mv/opportunities.ts';
import { DEFAULT_DRIFT_POLICY, driftPolicySchema } from '../drift/policy.ts';
import { edgeSettingsSchema } from '../edge/settings.ts';
import { simulationSchema } from '../simulation/manifest-simulator.ts';

const idSchema = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be lower-case kebab-case, 2-63 characters');

/** A relative KPI target such as "-30%" or a band such as "-18% to -12%". */
const targetSchema = z
  .string()
  .regex(
    /^[+-]?\d+(\.\d+)?%( to [+-]?\d+(\.\d+)?%)?$/,
    'must be a relative change like "-30%" or "-18% to -12%"',
  )
  .transform((text) => {
    const [low, high = low] = text.split(' to ').map((part) => Number.parseFloat(part));
    return { text, low: Math.min(low ?? 0, high ?? 0), high: Math.max(low ?? 0, high ?? 0) };
  });

const kpiSchema = z.strictObject({
  id: idSchema,
  description: z.string().min(1),
  baseline: z.strictObject({ value: z.number(), unit: z.string().min(1) }),
  target: targetSchema,
  measuredBy: z.string().min(1),
  /** How the pipeline computes it from its store. @default none: measured outside (`measuredBy`) */
  compute: kpiComputationSchema.optional(),
  /** The days the baseline and the value cover. @default month */
  period: kpiPeriodSchema.default('month'),
  /**
   * A measured baseline (M&V): the period, the variables that normalize it and the model whose
   * prediction minus the measured value is the savings (docs/kpis.md). @default none
   */
  mv: mvSpecSchema.optional(),
});

const rangeSchema = z.strictObject({ min: z.number(), max: z.number() });

const sensorSchema = z.strictObject({
  field: z.string().min(1),
  unit: z.string().min(1),
  range: rangeSchema,
  kpi: z.string().min(1),
});

const inferenceSchema = z.strictObject({
  id: idSchema,
  description: z.string().min(1),
  kpi: z.string().min(1),
});

const storageSchema = z.strictObject({
  memoryRetentionHours: z.int().min(1).max(8766),
  magneticRetentionDays: z.int().min(1).max(73000),
});

const modelSchema = z.strictObject({
  /** Contract fields the model scores. @default every sensor of the manifest */
  features: z.array(z.string().min(1)).min(1).optional(),
  endpoint: z.strictObject({
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type like "ml.c5.large"'),
    minInstances: z.int().min(1).max(100),
    maxInstances: z.int().min(1).max(100),
    /** Target of the autoscaling policy: invocations per instance per minute. */
    invocationsPerInstancePerMinute: z.int().min(1),
  }),
  /** Share of requests and answers captured to S3 for drift checks and retraining. */
  dataCapturePercent: z.int().min(0).max(100).default(20),
  /** When operators' false-positive verdicts start a candidate model by themselves. */
  fineTune: fineTuneSchema.default(DEFAULT_FINE_TUNE),
  /**
   * Model settings the use case sets itself; the local model chooses the others from the
   * simulation (core/model/selection.ts), and the seconds between readings come from the edge's
   * aggregation. No defaults here: a setting left out stays open to that choice.
   */
  params: z
    .strictObject({
      smoothingWindow: paramShape.smoothingWindow.unwrap().optional(),
      thresholdQuantile: paramShape.thresholdQuantile.unwrap().optional(),
      thresholdFactor: paramShape.thresholdFactor.unwrap().optional(),
      slowSensorRatio: paramShape.slowSensorRatio.unwrap().optional(),
      samplingSeconds: paramShape.samplingSeconds.unwrap().optional(),
      baselineThresholdFactor: paramShape.baselineThresholdFactor.unwrap().optional(),
    })
    .optional(),
});

const contractRefSchema = z
  .string()
  .regex(/^[a-z][a-z0-9.-]*@\d+$/, 'must be a contract reference like "pump.telemetry@1"');

export const manifestSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1),
  description: z.string().min(1),
  /** The contract new devices send, the simulators speak and the model's sensors are read from. */
  contract: contractRefSchema,
  /**
   * Older versions still accepted while devices move over at their own pace: a migration window.
   * Every stored reading keeps the version it was sent in. @default none
   */
  alsoAccepts: z.array(contractRefSchema).max(8).default([]),
  kpis: z.array(kpiSchema).min(1),
  /**
   * Supervisory savings to look for in the data (HVAC schedules and setbacks), each a
   * recommendation with its yearly estimate (docs/kpis.md). @default none
   */
  opportunities: opportunitiesSpecSchema.optional(),
  sensors: z.array(sensorSchema).min(1),
  inferences: z.array(inferenceSchema).default([]),
  storage: storageSchema,
  model: modelSchema.optional(),
  /** Filtering and aggregation on the device (the edge agent), with per-device overrides. */
  edge: edgeSettingsSchema.optional(),
  /** When people are interrupted, and each device's calibration. @default the policy's defaults */
  alerts: alertPolicySchema.default(DEFAULT_ALERT_POLICY),
  /** When the drift checks run and what they tolerate. @default the policy's defaults */
  drift: driftPolicySchema.default(DEFAULT_DRIFT_POLICY),
  /**
   * How the local runtime and the benchmarks simulate this use case's devices: levels, cycles,
   * ties between measures and faults. @default none: only the pump contract has a built-in simulator
   */
  simulation: simulationSchema.optional(),
});

export type UseCaseManifest = z.output<typeof manifestSchema>;

/** Every contract version a use case accepts: its current one first, then those it still accepts. */
export function acceptedContractRefs(manifest: Pick<UseCaseManifest, 'contract' | 'alsoAccepts'>): string[] {
  return [manifest.contract, ...manifest.alsoAccepts];
}

/**
 * The inference a use case's alerts are about: its first. Validation gives every use case with a
 * model one; `anomaly` names it for a use case that has none.
 */
export function alertInferenceOf(manifest: Pick<UseCaseManifest, 'inferences'>): string {
  return manifest.inferences[0]?.id ?? 'anomaly';
}
