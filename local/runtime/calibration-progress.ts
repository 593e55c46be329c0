import type { BaselineState, BaselineStore } from '../../core/baseline/ports.ts';

/** Where one use case's devices are with their own baselines. */
export interface UseCaseCalibration {
  readonly useCase: string;
  /** Devices the runtime has seen. */
  readonly devices: number;
  /** Devices with a baseline and no calibration under way: they may raise alerts. */
  readonly calibrated: number;
  /** Readings the furthest-behind calibrating device (of those still receiving) has, of `target`. */
  readonly leastCollected: number;
  readonly target: number;
  /** Seconds until the slowest calibrating device is done, at the pace seen so far; undefined before a pace is known. */
  readonly etaSeconds: number | undefined;
  /** Calibrating devices that sent nothing for a while: they wait for readings, not for time. */
  readonly idle: number;
}

interface Sample {
  readonly collected: number;
  readonly at: number;
}

/** What a use case's devices calibrate on, and how long one may be quiet before it counts as idle. */
export interface CalibrationTarget {
  readonly readings: number;
  /**
   * A calibrating device without progress for this long waits for readings, and gets no estimate:
   * longer than its edge heartbeat, the longest a device is quiet by design.
   */
  readonly idleMs: number;
}

/** "about 3 min", "about 20 h": an estimate, said as one. */
export function roughDuration(seconds: number): string {
  if (seconds < 90) return 'about a minute';
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `about ${Math.round(seconds / 3600)} h`;
  return `about ${Math.round(seconds / 86_400)} days`;
}

/** "slowest 120/400 readings, about 20 h more", or what the devices wait for. */
function progressOf(c: UseCaseCalibration): string {
  const waiting = c.idle > 0 ? `${c.idle} waiting for readings` : '';
  if (c.calibrated + c.idle === c.devices) return waiting;
  const estimate = c.etaSeconds === undefined ? '' : `, ${roughDuration(c.etaSeconds)} more`;
  return [`slowest ${c.leastCollected}/${c.target} readings${estimate}`, waiting].filter(Boolean).join('; ');
}

/**
 * How far each use case's devices are with calibrating their baselines, with an estimate of when
 * the slowest is done: a quiet air handling unit sends a reading every few minutes, and its 400
 * calibration readings take a day, which the newcomer should be told rather than left waiting.
 */
export class CalibrationProgress {
  /** The first progress seen of each calibrating device, for its pace, and its last change. */
  private readonly firstSeen = new Map<string, Sample>();
  private readonly lastChange = new Map<string, Sample>();
  private latest: UseCaseCalibration[] = [];

  constructor(
    private readonly baselines: Pick<BaselineStore, 'list'>,
    /** By use case, for the use cases the runtime scores. */
    private readonly targets: ReadonlyMap<string, CalibrationTarget>,
  ) {}

  async refresh(now = Date.now()): Promise<readonly UseCaseCalibration[]> {
    const summaries: UseCaseCalibration[] = [];
    for (const [useCase, target] of this.targets) {
      summaries.push(this.summarize(useCase, target, await this.baselines.list(useCase), now));
    }
    this.latest = summaries;
    return summaries;
  }

  get current(): readonly UseCaseCalibration[] {
    return this.latest;
  }

  private summarize(
    useCase: string,
    { readings: target, idleMs }: CalibrationTarget,
    states: readonly BaselineState[],
    now: number,
  ): UseCaseCalibration {
    let calibrated = 0;
    let idle = 0;
    let leastCollected = target;
    let etaSeconds: number | undefined = 0;
    for (const state of states) {
      const key = `${useCase}/${state.deviceId}`;
      if (state.active && !state.calibration) {
        calibrated += 1;
        this.firstSeen.delete(key);
        this.lastChange.delete(key);
        continue;
      }
      const collected = state.calibration?.collected ?? 0;
      const first = this.firstSeen.get(key) ?? { collected, at: now };
      this.firstSeen.set(key, first);
      const last = this.lastChange.get(key);
      if (!last || last.collected !== collected) this.lastChange.set(key, { collected, at: now });
      else if (now - last.at >= idleMs) {
        idle += 1;
        continue;
      }
      leastCollected = Math.min(leastCollected, collected);
      const pace = now > first.at ? (collected - first.collected) / ((now - first.at) / 1000) : 0;
      const eta = pace > 0 ? (target - collected) / pace : undefined;
      etaSeconds = eta === undefined || etaSeconds === undefined ? undefined : Math.max(etaSeconds, eta);
    }
    return { useCase, devices: states.length, calibrated, leastCollected, target, etaSeconds, idle };
  }

  /** One short phrase per use case still calibrating; empty once every device is calibrated. */
  text(): string {
    return this.latest
      .filter((c) => c.devices === 0 || c.calibrated < c.devices)
      .map((c) =>
        c.devices === 0
          ? `${c.useCase} waits for readings`
          : `${c.useCase} ${c.calibrated}/${c.devices} calibrated (${progressOf(c)})`,
      )
      .join(', ');
  }
}
