import type { DataContract } from '../contracts/contract.ts';
import { EdgePreprocessor } from '../edge/preprocessor.ts';
import { resolveEdgeSettings } from '../edge/settings.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { deviceSimulator } from './device-simulator.ts';

const HOUR_MS = 3600_000;
/** Sensor samples per aggregation window simulated (the edge polls faster; the mean is alike). */
const SAMPLES_PER_WINDOW = 2;

/** What one simulated device sent, as the model reads it: a row per reading, `sensors` order. */
export interface SimulatedRun {
  readonly rows: number[][];
  /** Each row's time, epoch ms. */
  readonly times: number[];
}

export interface SimulatedRunOptions {
  /** The model's sensors, contract measure names. */
  readonly sensors: readonly string[];
  readonly seed: number;
  /** Epoch ms of the first sample. */
  readonly start: number;
  /** Stop once this much time is simulated or this many readings are sent, whichever first. */
  readonly hours: number;
  readonly maxReadings?: number;
  /** A declared fault, started at `at` (epoch ms) and kept to the end. */
  readonly fault?: { readonly id: string; readonly at: number };
}

/**
 * What one simulated device of the use case sends: its simulator read through the use case's edge
 * settings (aggregation, deadband, filters), as the fleet's agents do, so a model learns and is
 * checked on the data it will score.
 */
export function simulatedRun(
  manifest: Pick<UseCaseManifest, 'id' | 'simulation' | 'sensors' | 'edge'>,
  contract: DataContract,
  options: SimulatedRunOptions,
): SimulatedRun {
  const thing = `simulated-${options.seed}`;
  const settings = resolveEdgeSettings(manifest.edge, thing);
  const simulator = deviceSimulator(manifest, contract, options.seed);
  const edge = new EdgePreprocessor(
    contract,
    { thing, firmware: 'simulated', hardwareGeneration: 'simulated' },
    settings,
  );
  const stepMs = settings.aggregateMs > 0 ? settings.aggregateMs / SAMPLES_PER_WINDOW : 1000;
  const end = options.start + options.hours * HOUR_MS;
  const maxReadings = options.maxReadings ?? Number.POSITIVE_INFINITY;
  const rows: number[][] = [];
  const times: number[] = [];
  let faulted = false;
  for (let time = options.start; time < end && rows.length < maxReadings; time += stepMs) {
    if (options.fault && !faulted && time >= options.fault.at) {
      simulator.inject(options.fault.id, time);
      faulted = true;
    }
    for (const ready of edge.accept({ timestamp: time, measures: simulator.next(time, stepMs / 1000) }, time)
      .ready) {
      rows.push(options.sensors.map((sensor) => ready.measures[sensor] ?? Number.NaN));
      times.push(ready.time);
    }
  }
  if (rows.length === 0)
    throw new Error(
      `${manifest.id}: the edge sent none of ${options.hours} h of simulated readings; check the simulation against the edge settings (rate limits, deadband)`,
    );
  return { rows, times };
}

/**
 * The longest cycle of the simulated devices' normal running, in hours: a week when a measure
 * follows a weekly schedule, a day when one has a daily cycle, else none (0). A model learns
 * normal running only from data that covers its cycles; trained on a morning, the afternoon is
 * an anomaly.
 */
export function simulationCycleHours(manifest: Pick<UseCaseManifest, 'simulation'>): number {
  const measures = Object.values(manifest.simulation?.measures ?? {});
  if (measures.some((measure) => measure.schedule)) return 7 * 24;
  if (measures.some((measure) => measure.daily)) return 24;
  return 0;
}

/** Seconds between two readings the edge sends at most: its aggregation window, else 1 (the poll). */
export function readingSeconds(manifest: Pick<UseCaseManifest, 'edge'>): number {
  const settings = resolveEdgeSettings(manifest.edge, 'simulated');
  return settings.aggregateMs > 0 ? settings.aggregateMs / 1000 : 1;
}

/** The measures a declared fault changes directly; unknown (empty) for a simulator in code. */
export function faultTouches(manifest: Pick<UseCaseManifest, 'simulation'>, id: string): string[] {
  const fault = manifest.simulation?.faults.find((candidate) => candidate.id === id);
  return [...new Set(fault?.effects.map((effect) => effect.measure) ?? [])];
}
