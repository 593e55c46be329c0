import type { DataContract } from '../../core/contracts/contract.ts';
import type { SelectionData } from '../../core/model/selection.ts';
import type { SensorTable } from '../../core/model/statistics.ts';
import { deviceSimulator } from '../../core/simulation/device-simulator.ts';
import {
  faultTouches,
  readingSeconds,
  simulatedRun,
  simulationCycleHours,
} from '../../core/simulation/simulated-readings.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';

const HOUR_MS = 3600_000;
const TRAINING_DEVICES = 4;
const CHECK_DEVICES = 2;
/**
 * Readings a training device sends at least: for the pumps 12 hours at 1 Hz. The ageing profile
 * learns from them how far each signal moves from a baseline as it ages, and extrapolates beyond;
 * learned over one hour (as until 2026-12-07), it took the flow's bounded wander for growth and
 * widened day-old baselines so far that three days of pumps caught their faults by chance
 * (docs/benchmarks.md, "The pumps"). A use case with daily or weekly cycles is trained over
 * a whole cycle.
 */
const MIN_TRAINING_READINGS = 43_200;
/** Bounds the training of a fast use case with a weekly cycle (a week at 10 s). */
const MAX_TRAINING_READINGS = 61_000;
/** A Monday, 00:00 UTC: the same model from the same manifest, any day it is trained. */
const TRAINING_WEEK = Date.UTC(2026, 0, 5);
/** The checks run a week later, on other devices. */
const CHECK_WEEK = TRAINING_WEEK + 7 * 24 * HOUR_MS;

/** Simulated training data, and the checks the settings are chosen on. */
export interface SimulatedSelectionData extends SelectionData {
  /** Readings per training device: each is its own recording. */
  readonly segments: number[];
  readonly readingSeconds: number;
}

/**
 * Simulates a use case's devices for its model: training devices over a whole cycle of normal
 * running, and, for choosing the settings, other devices a week later in normal running and with
 * each declared fault (started at 10:00 site time on a Tuesday for cyclic use cases, an hour in
 * otherwise, and counted from an hour after onset).
 */
export function simulationSelectionData(
  manifest: UseCaseManifest,
  contract: DataContract,
  sensors: readonly string[],
  /** Simulate the checks too (normal running of other devices, declared faults). @default true */
  checks = true,
): SimulatedSelectionData {
  const seconds = readingSeconds(manifest);
  const cycle = simulationCycleHours(manifest);
  const local = (manifest.simulation?.utcOffsetHours ?? 0) * HOUR_MS;
  const trainingHours = Math.max(cycle, (MIN_TRAINING_READINGS * seconds) / 3600);
  const run = (seed: number, start: number, hours: number, fault?: { id: string; at: number }) =>
    simulatedRun(manifest, contract, {
      sensors,
      seed,
      start,
      hours,
      maxReadings: Math.max(
        MIN_TRAINING_READINGS,
        Math.min(MAX_TRAINING_READINGS, Math.ceil((hours * 3600) / seconds)),
      ),
      ...(fault ? { fault } : {}),
    });
  const training = Array.from({ length: TRAINING_DEVICES }, (_, device) =>
    run(9000 + device, TRAINING_WEEK - local, trainingHours),
  );
  const normal = Array.from({ length: checks ? CHECK_DEVICES : 0 }, (_, device) =>
    run(9100 + device, CHECK_WEEK - local, Math.max(cycle, 4)),
  );
  // Tuesday of the check week, site time.
  const faultDay = CHECK_WEEK + 24 * HOUR_MS - local;
  const [start, at, end] =
    cycle > 0
      ? [faultDay, faultDay + 10 * HOUR_MS, faultDay + 24 * HOUR_MS]
      : [faultDay, faultDay + HOUR_MS, faultDay + 4 * HOUR_MS];
  const faultIds = checks ? deviceSimulator(manifest, contract, 0).faultIds : [];
  const faults = faultIds.map((id) => {
    // The normal check's devices, so a device whose own level sits off the fleet's is no catch.
    const runs = Array.from({ length: CHECK_DEVICES }, (_, device) =>
      run(9100 + device, start, (end - start) / HOUR_MS, { id, at }),
    );
    return {
      id,
      touches: faultTouches(manifest, id),
      tables: runs.map((faulted) => ({ sensors, rows: faulted.rows })),
      from: runs.map((faulted) => {
        const first = faulted.times.findIndex((time) => time >= at + HOUR_MS);
        return first < 0 ? faulted.rows.length : first;
      }),
    };
  });
  const table = (rows: number[][]): SensorTable => ({ sensors, rows });
  return {
    source: `simulation: ${TRAINING_DEVICES} devices over ${trainingHours.toFixed(0)} h fitted; checked on ${CHECK_DEVICES} other devices a week later, over ${Math.max(cycle, 4)} h of normal running and with each of ${faultIds.length} declared faults`,
    training: table(training.flatMap((segment) => segment.rows)),
    segments: training.map((segment) => segment.rows.length),
    normal: normal.map((segment) => table(segment.rows)),
    faults,
    readingSeconds: seconds,
  };
}
