import { z } from 'zod';
import { thingNameSchema } from '../contracts/contract.ts';

const fieldMap = (valueSchema: z.ZodNumber) => z.record(z.string().min(1), valueSchema);

const spikeFilterSchema = z.strictObject({
  /** Sensor fields to watch, e.g. `measures.outletPressure`. */
  fields: z.array(z.string().min(1)).min(1).optional(),
  /** Readings in the Hampel window, the one judged included. @default 15 */
  window: z.int().min(3).max(1001).optional(),
  /** Scaled median absolute deviations beyond which a reading is a spike. @default 4 */
  threshold: z.number().positive().optional(),
  /** `flag`: send the reading as is and count it; `replace`: send the window median; `off`. @default 'flag' */
  mode: z.enum(['flag', 'replace', 'off']).optional(),
});

/** What a use case or one device can tune on the edge. */
const edgeTuningSchema = z.strictObject({
  /** Changes no larger than this are not sent, per sensor field. @default none: every change is sent */
  deadband: fieldMap(z.number().min(0)).optional(),
  /** Longest silence the deadband may cause before a reading is sent anyway. @default 60 */
  heartbeatSeconds: z.number().positive().max(86_400).optional(),
  /** Fastest physically possible change per second, per sensor field; faster is a rejected glitch. */
  maxChangePerSecond: fieldMap(z.number().positive()).optional(),
  spikeFilter: spikeFilterSchema.optional(),
  /** Send the mean of each window of this many seconds instead of every reading. @default 0 (off) */
  aggregateSeconds: z.number().min(0).max(3600).optional(),
});

export const edgeSettingsSchema = edgeTuningSchema.extend({
  /** Overrides per thing name; maps merge per field, other settings replace the use case's. */
  devices: z.record(thingNameSchema, edgeTuningSchema).optional(),
});

export type EdgeSettings = z.output<typeof edgeSettingsSchema>;
type EdgeTuning = z.output<typeof edgeTuningSchema>;

/** The settings one device runs with, defaults applied. Fields are contract measure names. */
export interface ResolvedEdgeSettings {
  readonly deadband: Readonly<Record<string, number>>;
  readonly heartbeatMs: number;
  readonly maxChangePerSecond: Readonly<Record<string, number>>;
  readonly spikeFilter:
    | {
        readonly fields: readonly string[];
        readonly window: number;
        readonly threshold: number;
        readonly mode: 'flag' | 'replace';
      }
    | undefined;
  readonly aggregateMs: number;
}

const MEASURES_PREFIX = 'measures.';

function measureName(field: string): string {
  return field.startsWith(MEASURES_PREFIX) ? field.slice(MEASURES_PREFIX.length) : field;
}

function byMeasure(map: Readonly<Record<string, number>> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([field, value]) => [measureName(field), value]));
}

/** Every sensor field an edge section names, with where, for the manifest's cross-checks. */
export function edgeFieldReferences(settings: EdgeSettings): { path: (string | number)[]; field: string }[] {
  const references: { path: (string | number)[]; field: string }[] = [];
  const collect = (tuning: EdgeTuning, base: (string | number)[]) => {
    for (const key of ['deadband', 'maxChangePerSecond'] as const)
      for (const field of Object.keys(tuning[key] ?? {}))
        references.push({ path: [...base, key, field], field });
    tuning.spikeFilter?.fields?.forEach((field, index) =>
      references.push({ path: [...base, 'spikeFilter', 'fields', index], field }),
    );
  };
  collect(settings, ['edge']);
  for (const [thing, tuning] of Object.entries(settings.devices ?? {}))
    collect(tuning, ['edge', 'devices', thing]);
  return references;
}

/** The use case's edge settings with one device's overrides on top, defaults filled in. */
export function resolveEdgeSettings(settings: EdgeSettings | undefined, thing: string): ResolvedEdgeSettings {
  const base: EdgeTuning = settings ?? {};
  const device: EdgeTuning = settings?.devices?.[thing] ?? {};
  const spike = { ...base.spikeFilter, ...device.spikeFilter };
  const mode = spike.mode ?? 'flag';
  return {
    deadband: { ...byMeasure(base.deadband), ...byMeasure(device.deadband) },
    heartbeatMs: (device.heartbeatSeconds ?? base.heartbeatSeconds ?? 60) * 1000,
    maxChangePerSecond: { ...byMeasure(base.maxChangePerSecond), ...byMeasure(device.maxChangePerSecond) },
    spikeFilter:
      spike.fields && mode !== 'off'
        ? {
            fields: spike.fields.map(measureName),
            window: spike.window ?? 15,
            threshold: spike.threshold ?? 4,
            mode,
          }
        : undefined,
    aggregateMs: (device.aggregateSeconds ?? base.aggregateSeconds ?? 0) * 1000,
  };
}
