import { z } from 'zod';
import type { DataContract } from '../contracts/contract.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import {
  FileProblemsError,
  parseYamlFile,
  yamlFileStem,
  type DocumentPath,
  type FileProblem,
  type RawProblem,
} from '../documents/yaml-file.ts';
import { alertPolicySchema, DEFAULT_ALERT_POLICY } from '../alerts/policy.ts';
import { anomalyModelParamsSchema } from '../model/anomaly-model.ts';
import { computationFields, kpiComputationSchema, kpiPeriodSchema } from '../kpi/kpi.ts';
import { DEFAULT_DRIFT_POLICY, driftPolicySchema } from '../drift/policy.ts';
import { edgeFieldReferences, edgeSettingsSchema } from '../edge/settings.ts';
import { evaluationOrder, simulationSchema } from '../simulation/manifest-simulator.ts';

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
  /**
   * Training settings for a use case whose readings differ from the pumps' 1 Hz: smoothing in
   * readings, the slow-sensor cut, seconds between readings. @default the model's defaults
   */
  params: anomalyModelParamsSchema
    .pick({
      smoothingWindow: true,
      thresholdQuantile: true,
      thresholdFactor: true,
      slowSensorRatio: true,
      samplingSeconds: true,
    })
    .partial()
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

export type ManifestProblem = FileProblem;

export class ManifestError extends FileProblemsError {
  constructor(file: string, problems: readonly ManifestProblem[]) {
    super(file, 'use-case manifest', problems);
    this.name = 'ManifestError';
  }
}

type Path = DocumentPath;

/** What is wrong with a sensor as one contract version defines its measure, if anything. */
function sensorProblem(
  sensor: UseCaseManifest['sensors'][number],
  contract: DataContract,
): { key: 'field' | 'unit' | 'range'; message: string } | undefined {
  const measure = sensor.field.startsWith('measures.') ? sensor.field.slice('measures.'.length) : undefined;
  const spec = measure === undefined ? undefined : contract.measures[measure];
  if (!spec) {
    const fields = Object.keys(contract.measures).map((name) => `measures.${name}`);
    return {
      key: 'field',
      message: `"${sensor.field}" is not a measure of ${contract.ref} (known: ${fields.join(', ')})`,
    };
  }
  if (sensor.unit !== spec.unit) {
    return {
      key: 'unit',
      message: `${contract.ref} reports ${sensor.field} in "${spec.unit}", got "${sensor.unit}"`,
    };
  }
  if (sensor.range.min < spec.min || sensor.range.max > spec.max) {
    return {
      key: 'range',
      message: `${sensor.range.min}..${sensor.range.max} ${sensor.unit} is outside the physical range ${spec.min}..${spec.max} ${spec.unit} of ${contract.ref}`,
    };
  }
  return undefined;
}

/** Rules zod cannot express: cross-references to KPIs and to the data contracts. */
function crossCheck(manifest: UseCaseManifest, fileStem: string, contracts: ContractRegistry): RawProblem[] {
  const problems: RawProblem[] = [];
  if (manifest.id !== fileStem) {
    problems.push({ path: ['id'], message: `must match the file name "${fileStem}", got "${manifest.id}"` });
  }
  const kpiIds = new Set(manifest.kpis.map((kpi) => kpi.id));
  const known = [...kpiIds].join(', ');
  manifest.kpis.forEach((kpi, index) => {
    if (manifest.kpis.findIndex((other) => other.id === kpi.id) !== index) {
      problems.push({ path: ['kpis', index, 'id'], message: `duplicate KPI id "${kpi.id}"` });
    }
  });
  const accepted: DataContract[] = [];
  acceptedContractRefs(manifest).forEach((ref, index) => {
    const path: Path = index === 0 ? ['contract'] : ['alsoAccepts', index - 1];
    const contract = contracts.find(ref);
    if (!contract) {
      problems.push({
        path,
        message: `unknown data contract "${ref}" (known: ${contracts.refs.join(', ')})`,
      });
      return;
    }
    if (index > 0 && contract.id !== manifest.contract.split('@')[0]) {
      problems.push({
        path,
        message: `${ref} is another contract than ${manifest.contract}: a use case accepts versions of one contract`,
      });
    }
    if (acceptedContractRefs(manifest).indexOf(ref) !== index) {
      problems.push({ path, message: `${ref} is accepted twice` });
    }
    accepted.push(contract);
  });
  manifest.sensors.forEach((sensor, index) => {
    const at = (key: string): Path => ['sensors', index, key];
    if (!kpiIds.has(sensor.kpi)) {
      problems.push({ path: at('kpi'), message: `unknown KPI "${sensor.kpi}" (known: ${known})` });
    }
    if (sensor.range.min >= sensor.range.max) {
      problems.push({
        path: at('range'),
        message: `min must be below max, got ${sensor.range.min}..${sensor.range.max}`,
      });
    }
    if (manifest.sensors.findIndex((other) => other.field === sensor.field) !== index) {
      problems.push({ path: at('field'), message: `sensor "${sensor.field}" is declared twice` });
    }
    // A sensor is read whatever version a device sends: every accepted version must have it alike.
    for (const contract of accepted) {
      const problem = sensorProblem(sensor, contract);
      if (problem) {
        problems.push({ path: at(problem.key), message: problem.message });
        break;
      }
    }
  });
  if (manifest.model) {
    const { endpoint, features } = manifest.model;
    if (endpoint.minInstances > endpoint.maxInstances) {
      problems.push({
        path: ['model', 'endpoint'],
        message: `minInstances ${endpoint.minInstances} is above maxInstances ${endpoint.maxInstances}`,
      });
    }
    const sensorFields = new Set(manifest.sensors.map((sensor) => sensor.field));
    features?.forEach((feature, index) => {
      if (!sensorFields.has(feature)) {
        problems.push({
          path: ['model', 'features', index],
          message: `"${feature}" is not a sensor of this use case`,
        });
      }
    });
  }
  if (manifest.edge) {
    const sensorFields = new Set(manifest.sensors.map((sensor) => sensor.field));
    for (const { path, field } of edgeFieldReferences(manifest.edge)) {
      if (!sensorFields.has(field)) {
        problems.push({
          path,
          message: `"${field}" is not a sensor of this use case (sensors: ${[...sensorFields].join(', ')})`,
        });
      }
    }
  }
  if (manifest.model && manifest.inferences.length === 0) {
    problems.push({
      path: ['inferences'],
      message: 'a use case with a model needs an inference for its alerts to be about',
    });
  }
  if (manifest.simulation) problems.push(...simulationProblems(manifest.simulation, accepted[0]));
  const sensorFieldList = manifest.sensors.map((sensor) => sensor.field);
  // The longest a healthy device of the use case may stay quiet: its edge heartbeat.
  const longestHeartbeat = Math.max(
    manifest.edge?.heartbeatSeconds ?? 60,
    ...Object.values(manifest.edge?.devices ?? {}).map((tuning) => tuning.heartbeatSeconds ?? 0),
  );
  manifest.kpis.forEach((kpi, index) => {
    if (!kpi.compute) return;
    if (
      'builtin' in kpi.compute &&
      kpi.compute.builtin === 'unplanned-downtime' &&
      kpi.compute.silentAfterMinutes * 60 <= longestHeartbeat
    )
      problems.push({
        path: ['kpis', index, 'compute', 'silentAfterMinutes'],
        message: `${kpi.compute.silentAfterMinutes} minutes is not longer than the edge heartbeat (${longestHeartbeat} s): a healthy device that only sends its heartbeat would count as down`,
      });
    for (const field of computationFields(kpi.compute))
      if (!sensorFieldList.includes(field))
        problems.push({
          path: ['kpis', index, 'compute'],
          message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
        });
  });
  manifest.drift.flatLine.ignore.forEach((field, index) => {
    if (!sensorFieldList.includes(field))
      problems.push({
        path: ['drift', 'flatLine', 'ignore', index],
        message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
      });
  });
  manifest.inferences.forEach((inference, index) => {
    if (!kpiIds.has(inference.kpi)) {
      problems.push({
        path: ['inferences', index, 'kpi'],
        message: `unknown KPI "${inference.kpi}" (known: ${known})`,
      });
    }
  });
  return problems;
}

/** The simulation must speak the use case's current contract, and its ties and faults must resolve. */
function simulationProblems(
  simulation: NonNullable<UseCaseManifest['simulation']>,
  contract: DataContract | undefined,
): RawProblem[] {
  const problems: RawProblem[] = [];
  const simulated = Object.keys(simulation.measures);
  if (contract) {
    for (const name of simulated)
      if (!(name in contract.measures))
        problems.push({
          path: ['simulation', 'measures', name],
          message: `"${name}" is not a measure of ${contract.ref} (known: ${Object.keys(contract.measures).join(', ')})`,
        });
    for (const [name, measure] of Object.entries(contract.measures))
      if (!measure.optional && !simulated.includes(name))
        problems.push({
          path: ['simulation', 'measures'],
          message: `${contract.ref} requires "${name}": simulated devices would send invalid readings`,
        });
  }
  const ordered = evaluationOrder(simulation.measures);
  if ('problem' in ordered)
    problems.push({
      path: ['simulation', 'measures', ordered.problem.measure, 'dependsOn'],
      message: ordered.problem.message,
    });
  simulation.faults.forEach((fault, index) => {
    if (simulation.faults.findIndex((other) => other.id === fault.id) !== index)
      problems.push({
        path: ['simulation', 'faults', index, 'id'],
        message: `duplicate fault id "${fault.id}"`,
      });
    fault.effects.forEach((effect, effectIndex) => {
      if (!simulated.includes(effect.measure))
        problems.push({
          path: ['simulation', 'faults', index, 'effects', effectIndex, 'measure'],
          message: `"${effect.measure}" is not a simulated measure (${simulated.join(', ')})`,
        });
    });
  });
  return problems;
}

/**
 * Parses and validates one manifest against the deployment's contracts. `file` is only used in
 * messages and to check the id; reading the file is the caller's job, so core stays free of I/O.
 */
export function parseManifest(text: string, file: string, contracts: ContractRegistry): UseCaseManifest {
  return parseYamlFile(
    text,
    file,
    manifestSchema,
    (manifest) => crossCheck(manifest, yamlFileStem(file), contracts),
    (problems) => new ManifestError(file, problems),
  );
}

/**
 * The manifest as a plain document again (KPI targets back to their text): what a deployment
 * compiles into a function, and what parses back to the same manifest.
 */
export function manifestDocument(manifest: UseCaseManifest): unknown {
  return { ...manifest, kpis: manifest.kpis.map((kpi) => ({ ...kpi, target: kpi.target.text })) };
}

/** Parses a document made by manifestDocument (JSON is YAML), with every check of a manifest file. */
export function parseManifestDocument(
  document: unknown,
  origin: string,
  contracts: ContractRegistry,
): UseCaseManifest {
  const id =
    typeof document === 'object' && document !== null && 'id' in document && typeof document.id === 'string'
      ? document.id
      : origin;
  return parseManifest(JSON.stringify(document), `${id}.yaml`, contracts);
}
