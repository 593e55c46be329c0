import { seededRandom } from '../core/simulation/random.ts';
import type { Operation } from './mv-site.ts';

/**
 * How a simulated pump fleet runs for `bench:mv -- --use-case pump-maintenance`: each pump runs a
 * daily shift (its length varies from day to day, and is shorter after the baseline, as a plant
 * that pumps less), stands idle outside it (still sending, no flow), and stops unplanned at a rate
 * per running hour: it trips and is silent for one to four hours. After the baseline the changed
 * site stops `fewerStopsPct` less often (its faults found before they stop the pump); the twin site
 * keeps the rate. Both are planted: what the bench shows is that M&V recovers the change, per
 * running hour, while the fleet runs less.
 */
export interface PumpOperationsOptions {
  readonly units: readonly string[];
  readonly seed: number;
  readonly from: number;
  readonly reportingFrom: number;
  readonly to: number;
  /** Mean shift length, hours a day, in the baseline and after it. */
  readonly shiftHours: { readonly baseline: number; readonly reporting: number };
  /** Unplanned stops per 100 running hours, in the baseline. */
  readonly stopsPer100RunningHours: number;
  /** How many fewer stops, percent, after the baseline; 0 for the twin site. */
  readonly fewerStopsPct: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STATES: readonly Operation[] = ['idle', 'running', 'down'];

/** Each pump's state minute by minute over [from, to), and how to look one up. */
export function pumpOperations(options: PumpOperationsOptions): {
  operation: (deviceId: string, time: number) => Operation;
  stops: number;
} {
  const minutes = Math.ceil((options.to - options.from) / MINUTE);
  const plans = new Map<string, Uint8Array>();
  let stops = 0;
  options.units.forEach((deviceId, index) => {
    // One stream per pump, drawn the same way on both sites: the changed site's stops are a subset of the twin's.
    const random = seededRandom(options.seed * 1000 + index);
    const plan = new Uint8Array(minutes);
    for (let day = options.from; day < options.to; day += DAY) {
      const reporting = day >= options.reportingFrom;
      const mean = reporting ? options.shiftHours.reporting : options.shiftHours.baseline;
      const hours = Math.max(2, Math.min(22, mean + (random() - 0.5) * 8));
      const start = day + 6 * HOUR;
      for (let t = start; t < start + hours * HOUR && t < options.to; t += MINUTE) {
        const at = Math.floor((t - options.from) / MINUTE);
        if (plan[at] === 0) plan[at] = 1;
      }
      // A stop may start in each running hour of the shift.
      for (let hour = start; hour < start + hours * HOUR; hour += HOUR) {
        const draw = random();
        const length = (1 + 3 * random()) * HOUR;
        const rate =
          (options.stopsPer100RunningHours / 100) * (reporting ? 1 - options.fewerStopsPct / 100 : 1);
        if (draw >= rate) continue;
        stops++;
        for (let t = hour; t < hour + length && t < options.to; t += MINUTE)
          plan[Math.floor((t - options.from) / MINUTE)] = 2;
      }
    }
    plans.set(deviceId, plan);
  });
  return {
    stops,
    operation: (deviceId, time) => {
      const state = plans.get(deviceId)?.[Math.floor((time - options.from) / MINUTE)] ?? 0;
      return STATES[state] ?? 'idle';
    },
  };
}
