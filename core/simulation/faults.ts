import { z } from 'zod';
import { gaussian } from './random.ts';

/**
 * Faults a simulated device can be given: each bends some measures the way the real fault would
 * (a stuck valve holds, a fouled coil drifts, a worn bearing vibrates more). Declared as data in a
 * manifest's `simulation.faults`, or by a simulator written in code (the pump's).
 */
export const faultEffectSchema = z
  .strictObject({
    measure: z.string().min(1),
    /** The measure holds the value it had when the fault began (a stuck valve, a frozen sensor). */
    stuck: z.literal(true).optional(),
    /** A constant shift. */
    offset: z.number().optional(),
    /** A shift that grows this much an hour (fouling, sensor drift), up to `maxDrift`. */
    driftPerHour: z.number().optional(),
    maxDrift: z.number().positive().optional(),
    /** A factor on the value (a fan working harder). */
    scale: z.number().positive().optional(),
    /** Extra noise (a loose connection). */
    noise: z.number().positive().optional(),
    /**
     * Only while the measure's own schedule is off (nights, weekends): a setpoint not set back, a
     * fan left on after hours. The measure must have a `schedule`.
     */
    whileScheduleOff: z.literal(true).optional(),
  })
  .refine(
    (effect) =>
      [effect.stuck, effect.offset, effect.driftPerHour, effect.scale, effect.noise].some(
        (value) => value !== undefined,
      ),
    { message: 'an effect needs one of stuck, offset, driftPerHour, scale, noise' },
  );

export const faultSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'must be lower-case kebab-case'),
  description: z.string().min(1),
  effects: z.array(faultEffectSchema).min(1),
});

export type FaultSpec = z.output<typeof faultSchema>;

interface ActiveFault {
  readonly since: number;
  readonly effects: FaultSpec['effects'];
  /** What a stuck measure holds, taken at the first reading of the fault. */
  readonly held: Map<string, number>;
}

/** The declared faults of one simulated device, and those started on it. */
export class FaultInjector {
  private readonly started = new Map<string, ActiveFault>();

  constructor(
    private readonly declared: readonly FaultSpec[],
    /** The device's own random source: a fault's noise is reproducible from its seed. */
    private readonly random: () => number,
  ) {}

  get faultIds(): string[] {
    return this.declared.map((fault) => fault.id);
  }

  /** Whether any fault has been started (healthy devices skip the effects). */
  get active(): boolean {
    return this.started.size > 0;
  }

  /** Starts a declared fault at `time` (epoch ms); it lasts until cleared. */
  inject(faultId: string, time: number): void {
    const fault = this.declared.find((candidate) => candidate.id === faultId);
    if (!fault)
      throw new Error(`unknown fault "${faultId}" (declared: ${this.faultIds.join(', ') || 'none'})`);
    this.started.set(faultId, { since: time, effects: fault.effects, held: new Map() });
  }

  clear(): void {
    this.started.clear();
  }

  /** Stops one started fault (a fix, or an operating practice changed). */
  stop(faultId: string): void {
    this.started.delete(faultId);
  }

  /**
   * `value`, the healthy reading of measure `name` at `time`, as the started faults bend it;
   * `scheduleOff` says whether the measure's schedule is off now (undefined: it has none).
   */
  apply(name: string, value: number, time: number, scheduleOff?: boolean): number {
    let result = value;
    for (const fault of this.started.values()) {
      for (const effect of fault.effects) {
        if (effect.measure !== name) continue;
        if (effect.whileScheduleOff && scheduleOff !== true) continue;
        if (effect.stuck) {
          if (!fault.held.has(name)) fault.held.set(name, result);
          result = fault.held.get(name) ?? result;
          continue;
        }
        if (effect.scale !== undefined) result *= effect.scale;
        if (effect.offset !== undefined) result += effect.offset;
        if (effect.driftPerHour !== undefined) {
          const drift = (effect.driftPerHour * (time - fault.since)) / 3600_000;
          const cap = effect.maxDrift ?? Number.POSITIVE_INFINITY;
          result += Math.sign(drift) * Math.min(Math.abs(drift), cap);
        }
        if (effect.noise !== undefined) result += effect.noise * gaussian(this.random);
      }
    }
    return result;
  }
}
