import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DataContract } from '../../core/contracts/contract.ts';
import { trainAnomalyModel, type AnomalyModel } from '../../core/model/anomaly-model.ts';
import { EdgePreprocessor } from '../../core/edge/preprocessor.ts';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { deviceSimulator } from '../../core/simulation/device-simulator.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { loadModel } from '../../model/invocations.ts';
import { MODEL_FILE, TRAINING_REPORT_FILE } from '../../model/train.ts';

const TRAINING_DEVICES = 4;
/**
 * Readings each training device sends: for the pumps an hour at 1 Hz, long enough for the ageing
 * profile to see a baseline age; for a use case that sends minute means, two and a half days.
 */
const TRAINING_READINGS_PER_DEVICE = 3600;
/** Sensor samples per aggregation window the training simulates (the edge polls faster; the mean is alike). */
const SAMPLES_PER_WINDOW = 2;

/** The manifest's model features as contract measure names (the model's sensor names). */
export function modelFeatures(manifest: UseCaseManifest): string[] {
  const fields = manifest.model?.features ?? manifest.sensors.map((sensor) => sensor.field);
  return fields.map((field) => field.replace(/^measures\./, ''));
}

/**
 * Loads the last model of a use case from `<modelDir>`, or trains one from simulated normal
 * operation of the fleet (seconds, not the minutes live data would take) and saves it there in
 * the container's format, so `aiot model serve --model-dir` serves it too.
 */
export function ensureLocalModel(
  manifest: UseCaseManifest,
  contract: DataContract,
  modelDir: string,
): { model: AnomalyModel; trained: boolean } {
  if (existsSync(path.join(modelDir, MODEL_FILE))) {
    const model = loadModel(modelDir);
    // A simulated model from before device baselines has no ageing profile: its baselines would
    // page on normal wander. It costs seconds to train again; a model someone trained is kept.
    const outdated = model.modelVersion.includes('-simulated-') && !model.ageing;
    if (!outdated) return { model, trained: false };
  }
  const sensors = modelFeatures(manifest).filter((name) => name in contract.measures);
  const segments = Array.from({ length: TRAINING_DEVICES }, (_, device) =>
    edgeReadings(manifest, contract, 9000 + device).map((measures) =>
      sensors.map((sensor) => measures[sensor] ?? Number.NaN),
    ),
  );
  const rows = segments.flat();
  const model = trainAnomalyModel(
    { sensors, rows },
    {
      modelVersion: `${manifest.id}-simulated-${new Date().toISOString().slice(0, 10)}`,
      segments: segments.map((segment) => segment.length),
      params: { ...manifest.model?.params, calibrationRows: manifest.alerts.calibrationReadings },
    },
  );
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, MODEL_FILE), `${JSON.stringify(model)}\n`);
  writeFileSync(
    path.join(modelDir, TRAINING_REPORT_FILE),
    `${JSON.stringify({ modelVersion: model.modelVersion, source: 'simulated normal operation', rows: rows.length, tracked: model.tracked.map((t) => t.sensor), untracked: model.untracked, threshold: model.threshold }, null, 2)}\n`,
  );
  return { model, trained: true };
}

/**
 * What one simulated device of the use case sends in normal operation: its simulator read through
 * the use case's edge settings (aggregation, deadband, filters), as the fleet's agents do, so the
 * model learns the data it will score.
 */
function edgeReadings(
  manifest: UseCaseManifest,
  contract: DataContract,
  seed: number,
): Readonly<Record<string, number>>[] {
  const thing = `training-${seed}`;
  const settings = resolveEdgeSettings(manifest.edge, thing);
  const simulator = deviceSimulator(manifest, contract, seed);
  const edge = new EdgePreprocessor(
    contract,
    { thing, firmware: 'training', hardwareGeneration: 'training' },
    settings,
  );
  const stepMs = settings.aggregateMs > 0 ? settings.aggregateMs / SAMPLES_PER_WINDOW : 1000;
  const readings: Readonly<Record<string, number>>[] = [];
  // A fixed start (a Monday, 00:00 UTC): the same model from the same manifest, any day it is trained.
  const start = Date.UTC(2026, 0, 5);
  // Bounded: a simulator whose readings the edge refuses or holds back would otherwise never end.
  const maxSamples = TRAINING_READINGS_PER_DEVICE * SAMPLES_PER_WINDOW * 100;
  for (let time = start, samples = 0; readings.length < TRAINING_READINGS_PER_DEVICE; time += stepMs) {
    if (++samples > maxSamples)
      throw new Error(
        `${manifest.id}: the edge sent ${readings.length} of ${samples - 1} simulated readings; check the simulation against the edge settings (rate limits, deadband)`,
      );
    const result = edge.accept({ timestamp: time, measures: simulator.next(time, stepMs / 1000) }, time);
    for (const ready of result.ready) readings.push(ready.measures);
  }
  return readings;
}
