import { z } from 'zod';
import { FaultInjector, faultSchema } from './faults.ts';
import { gaussian, seededRandom } from './random.ts';

/**
 * A use case's simulated devices, described in its manifest (`simulation:`) instead of code:
 * each measure is a level with daily and weekly cycles, a slow random wander, a thermal lag and
 * linear ties to the measures it depends on; faults bend measures the way a stuck valve or a
 * fouled coil would. A new use case brings its own simulator as data.
 */

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Weekday = (typeof WEEKDAYS)[number];

// Kept as text (a manifest compiled into a function parses back to itself): minutes when used.
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day "HH:MM"');

function minutesOf(clock: string): number {
  const [hours = 0, minutes = 0] = clock.split(':').map(Number);
  return hours * 60 + minutes;
}

const scheduleSchema = z.strictObject({
  /** The days the schedule is on. */
  days: z.array(z.enum(WEEKDAYS)).min(1),
  from: clockTime,
  to: clockTime,
  /** Added to the measure while the schedule is on, and while it is off. */
  on: z.number(),
  off: z.number(),
});

const measureSimulationSchema = z.strictObject({
  /** The level around which the measure moves; the reference its dependents deviate from. */
  mean: z.number(),
  /** A weekly step profile: occupancy, setbacks, a fan schedule. */
  schedule: scheduleSchema.optional(),
  /** A daily sinusoid: weather, solar gains. */
  daily: z.strictObject({ amplitude: z.number(), peakHour: z.number().min(0).max(24) }).optional(),
  /** Linear ties: coefficient per other measure, on its deviation from its `mean`. */
  dependsOn: z.record(z.string().min(1), z.number()).default({}),
  /** First-order lag towards the level (thermal mass), in seconds. @default 0: follows at once */
  lagSeconds: z.number().min(0).default(0),
  /** A slow random wander of this spread, mean-reverting over `revertSeconds`. */
  wander: z.strictObject({ std: z.number().min(0), revertSeconds: z.number().positive() }).optional(),
  /** Measurement noise (one standard deviation) on every reading. @default 0 */
  noise: z.number().min(0).default(0),
  /** How much one device's level differs from another's (one standard deviation). @default 0 */
  deviceSpread: z.number().min(0).default(0),
});

export const simulationSchema = z
  .strictObject({
    /** Simulated things are `<prefix>-001`, `<prefix>-002`… */
    thingPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be lower-case letters, digits and dashes'),
    /** Hours the site's clock is ahead of UTC, for schedules and daily cycles. @default 0 */
    utcOffsetHours: z.number().min(-12).max(14).default(0),
    /** Every measure a simulated device reports, by contract measure name. */
    measures: z.record(z.string().min(1), measureSimulationSchema),
    faults: z.array(faultSchema).default([]),
    /**
     * Operating practices that waste energy without being faults (no night setback, fans left on
     * after hours): what supervisory recommendations change. Not alerted on; `bench:mv` gives
     * them to some units and takes them away when a recommendation is applied.
     */
    practices: z.array(faultSchema).default([]),
    /**
     * The fault `aiot start` gives one simulated device a few minutes after its calibration, so a
     * newcomer sees an alert and answers it. @default the first of `faults`
     */
    demoFault: z.string().optional(),
  })
  .superRefine((spec, context) => {
    // Faults and practices start by id: a practice may not share one (duplicate faults are the manifest check's).
    const ids = spec.faults.map((fault) => fault.id);
    spec.practices.forEach((practice, index) => {
      if (ids.includes(practice.id))
        context.addIssue({
          code: 'custom',
          path: ['practices', index, 'id'],
          message: `"${practice.id}" is declared twice`,
        });
      ids.push(practice.id);
    });
    for (const [index, practice] of [...spec.faults, ...spec.practices].entries())
      for (const effect of practice.effects)
        // (A measure not simulated at all is the manifest check's to name.)
        if (
          effect.whileScheduleOff &&
          spec.measures[effect.measure] &&
          !spec.measures[effect.measure]?.schedule
        )
          context.addIssue({
            code: 'custom',
            path: [index < spec.faults.length ? 'faults' : 'practices'],
            message: `"${practice.id}" acts on ${effect.measure} while its schedule is off, but ${effect.measure} has no schedule`,
          });
    if (spec.demoFault !== undefined && !spec.faults.some((fault) => fault.id === spec.demoFault)) {
      context.addIssue({
        code: 'custom',
        path: ['demoFault'],
        message: `"${spec.demoFault}" is not one of the faults (${spec.faults.map((fault) => fault.id).join(', ') || 'none declared'})`,
      });
    }
  });

export type SimulationSpec = z.output<typeof simulationSchema>;
type MeasureSpec = SimulationSpec['measures'][string];

/**
 * The measures in an order where each comes after those it depends on, or the problem: a
 * dependency on a measure that is not simulated, or a cycle (named in the message).
 */
export function evaluationOrder(
  measures: Readonly<Record<string, Pick<MeasureSpec, 'dependsOn'>>>,
): { order: string[] } | { problem: { measure: string; message: string } } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): { measure: string; message: string } | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting')
      return {
        measure: name,
        message: `depends on itself through ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')}`,
      };
    state.set(name, 'visiting');
    for (const dependency of Object.keys(measures[name]?.dependsOn ?? {})) {
      if (!(dependency in measures))
        return { measure: name, message: `depends on "${dependency}", which is not simulated` };
      const problem = visit(dependency, [...trail, name]);
      if (problem) return problem;
    }
    state.set(name, 'done');
    order.push(name);
    return undefined;
  };
  for (const name of Object.keys(measures)) {
    const problem = visit(name, []);
    if (problem) return { problem };
  }
  return { order };
}

export interface ManifestSimulatorOptions {
  readonly spec: SimulationSpec;
  /** Where each measure is clamped: what the sensor can report. */
  readonly ranges: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
  readonly seed: number;
}

interface CompiledMeasure {
  readonly name: string;
  readonly mean: number;
  /** This device's own level, drawn once. */
  readonly offset: number;
  readonly schedule: { days: Set<Weekday>; from: number; to: number; on: number; off: number } | undefined;
  readonly daily: MeasureSpec['daily'];
  readonly dependsOn: readonly { name: string; coefficient: number; reference: number }[];
  readonly wander: MeasureSpec['wander'];
  readonly lagSeconds: number;
  readonly noise: number;
  readonly min: number;
  readonly max: number;
  wandered: number;
  level: number | undefined;
}

/** One simulated device of a use case, from its manifest's `simulation` section. */
export class ManifestSimulator {
  private readonly random: () => number;
  /** The measures in evaluation order, with this device's state. */
  private readonly compiled: CompiledMeasure[];
  private readonly faults: FaultInjector;

  constructor(private readonly options: ManifestSimulatorOptions) {
    const ordered = evaluationOrder(options.spec.measures);
    if ('problem' in ordered)
      throw new Error(`simulation of ${ordered.problem.measure}: ${ordered.problem.message}`);
    this.random = seededRandom(options.seed);
    this.faults = new FaultInjector([...options.spec.faults, ...options.spec.practices], this.random);
    const measures = options.spec.measures;
    this.compiled = ordered.order.flatMap((name) => {
      const spec = measures[name];
      if (!spec) return [];
      const range = options.ranges[name];
      return [
        {
          name,
          mean: spec.mean,
          offset: spec.deviceSpread * gaussian(this.random),
          schedule: spec.schedule && {
            days: new Set(spec.schedule.days),
            from: minutesOf(spec.schedule.from),
            to: minutesOf(spec.schedule.to),
            on: spec.schedule.on,
            off: spec.schedule.off,
          },
          daily: spec.daily,
          dependsOn: Object.entries(spec.dependsOn).map(([dependency, coefficient]) => ({
            name: dependency,
            coefficient,
            reference: measures[dependency]?.mean ?? 0,
          })),
          wander: spec.wander,
          lagSeconds: spec.lagSeconds,
          noise: spec.noise,
          min: range?.min ?? Number.NEGATIVE_INFINITY,
          max: range?.max ?? Number.POSITIVE_INFINITY,
          wandered: 0,
          level: undefined,
        },
      ];
    });
  }

  /** Fault ids the manifest declares (not its practices). */
  get faultIds(): string[] {
    return this.options.spec.faults.map((fault) => fault.id);
  }

  /** Operating practices the manifest declares. */
  get practiceIds(): string[] {
    return this.options.spec.practices.map((practice) => practice.id);
  }

  /** Ends one started fault or practice at once: it was fixed, or the recommendation applied. */
  stop(id: string): void {
    this.faults.stop(id);
  }

  /** Starts a declared fault at `time` (epoch ms); it lasts until cleared. */
  inject(faultId: string, time: number): void {
    this.faults.inject(faultId, time);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The measures read at `time` (epoch ms), `dtSeconds` after the previous reading. */
  next(time: number, dtSeconds = 1): Record<string, number> {
    const local = new Date(time + this.options.spec.utcOffsetHours * 3600_000);
    const minuteOfDay = local.getUTCHours() * 60 + local.getUTCMinutes() + local.getUTCSeconds() / 60;
    const weekday: Weekday = WEEKDAYS[local.getUTCDay()] ?? 'sun';
    const values: Record<string, number> = {};
    for (const measure of this.compiled) {
      let level = measure.mean + measure.offset;
      const schedule = measure.schedule;
      let scheduleOff: boolean | undefined;
      if (schedule) {
        const within =
          schedule.from <= schedule.to
            ? minuteOfDay >= schedule.from && minuteOfDay < schedule.to
            : minuteOfDay >= schedule.from || minuteOfDay < schedule.to;
        scheduleOff = !(schedule.days.has(weekday) && within);
        level += scheduleOff ? schedule.off : schedule.on;
      }
      if (measure.daily) {
        const phase = ((minuteOfDay / 60 - measure.daily.peakHour) / 24) * 2 * Math.PI;
        level += measure.daily.amplitude * Math.cos(phase);
      }
      for (const { name, coefficient, reference } of measure.dependsOn)
        level += coefficient * ((values[name] ?? reference) - reference);
      if (measure.wander) {
        const { std, revertSeconds } = measure.wander;
        // Ornstein-Uhlenbeck: its spread stays `std` whatever the reading interval.
        const pull = Math.min(1, dtSeconds / revertSeconds);
        measure.wandered =
          measure.wandered * (1 - pull) + std * Math.sqrt(pull * (2 - pull)) * gaussian(this.random);
        level += measure.wandered;
      }
      measure.level =
        measure.level === undefined || measure.lagSeconds === 0
          ? level
          : measure.level + (level - measure.level) * Math.min(1, dtSeconds / measure.lagSeconds);
      const observed =
        measure.noise > 0 ? measure.level + measure.noise * gaussian(this.random) : measure.level;
      const faulted = this.faults.active
        ? this.faults.apply(measure.name, observed, time, scheduleOff)
        : observed;
      values[measure.name] = Math.min(measure.max, Math.max(measure.min, faulted));
    }
    return values;
  }
}
