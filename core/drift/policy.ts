import { z } from 'zod';

/**
 * When the drift checks run and what each one tolerates: a manifest's `drift:` section. Every
 * figure has a default, so a use case without the section is checked too.
 */
export const driftPolicySchema = z.strictObject({
  /** How often the checks run (the EventBridge Scheduler rate in the cloud). */
  everyMinutes: z.int().min(5).max(1440).default(60),
  /** The recent readings each run looks at. */
  windowMinutes: z.int().min(5).max(1440).default(60),
  /** Share of readings missing (from gaps in `seq`) that makes a finding. */
  gaps: z.strictObject({ maxMissingShare: z.number().min(0).max(1).default(0.001) }).prefault({}),
  /**
   * A sensor whose value has not changed for this long is stuck (flat-lined); `ignore` lists the
   * sensor fields that legitimately hold a value (setpoints, schedules).
   */
  flatLine: z
    .strictObject({
      minutes: z.number().positive().max(1440).default(10),
      ignore: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** Share of readings outside the manifest's operating range. */
  outOfRange: z.strictObject({ maxShare: z.number().min(0).max(1).default(0.01) }).prefault({}),
  /** Share of readings the edge agent's spike filter flagged, per measure. */
  spikes: z.strictObject({ maxShare: z.number().min(0).max(1).default(0.01) }).prefault({}),
  /** Noise (spread of successive differences) of the window against the window before it. */
  noise: z.strictObject({ maxRatio: z.number().gt(1).default(3) }).prefault({}),
  /** Device clock against arrival, from the edge agent's health reports. */
  clockSkew: z.strictObject({ maxSeconds: z.number().positive().default(30) }).prefault({}),
  /**
   * Data drift of the model's inputs against its training profile: a feature drifts above `psi`
   * (population stability index), a device drifts when at least `maxDriftedShare` of them do.
   */
  dataDrift: z
    .strictObject({
      psi: z.number().positive().default(0.25),
      maxDriftedShare: z.number().gt(0).max(1).default(0.3),
    })
    .prefault({}),
  /** Anomalous share of scored readings, fleet-wide, against the rate the model expects. */
  anomalyRate: z
    .strictObject({
      expected: z.number().gt(0).lt(1).default(0.01),
      maxFactor: z.number().gt(1).default(5),
    })
    .prefault({}),
  /** Share of answered alerts closed as false positives over `days`, once `minAnswered` are in. */
  falsePositives: z
    .strictObject({
      maxShare: z.number().gt(0).max(1).default(0.5),
      minAnswered: z.int().min(1).default(5),
      days: z.int().min(1).max(90).default(7),
    })
    .prefault({}),
  /** Inference latency (p99) and the share of readings left unscored. */
  inference: z
    .strictObject({
      p99Ms: z.number().positive().default(200),
      maxSkippedShare: z.number().min(0).max(1).default(0.01),
    })
    .prefault({}),
});

export type DriftPolicy = z.output<typeof driftPolicySchema>;

export const DEFAULT_DRIFT_POLICY: DriftPolicy = driftPolicySchema.parse({});
