import { setImmediate as turn } from 'node:timers/promises';
import type { DeviceSimulator } from '../../core/simulation/device-simulator.ts';
import type { ReadingSource } from '../../edge/sources.ts';

/** Readings made between two turns of the event loop: the broker and the store keep up meanwhile. */
const CHUNK = 2000;

export interface HistoryOptions {
  /** Device time of the first reading, epoch ms. */
  readonly from: number;
  /** Device time the history ends before, epoch ms: where the live readings take over. */
  readonly until: number;
  /** Device time between readings, ms. */
  readonly stepMs: number;
  readonly signal?: AbortSignal;
}

/**
 * A simulated device's past, read as fast as it can be made: what a device that was offline has
 * in its buffer when it comes back. Its readings go through the same agent, filters and disk
 * queue as live ones; ingestion takes them as the backlog they are.
 */
export async function* historySource(
  simulator: Pick<DeviceSimulator, 'next'>,
  options: HistoryOptions,
): ReadingSource {
  if (!(options.stepMs > 0)) throw new Error(`stepMs must be above 0, got ${options.stepMs}`);
  let made = 0;
  for (let time = options.from; time < options.until; time += options.stepMs) {
    if (options.signal?.aborted) return;
    yield { reading: { timestamp: time, measures: simulator.next(time, options.stepMs / 1000) } };
    if (++made % CHUNK === 0) await turn();
  }
}

/** One source after the other; each is made only when the one before has ended. */
export async function* sourcesInTurn(...sources: (() => ReadingSource)[]): ReadingSource {
  for (const source of sources) yield* source();
}
