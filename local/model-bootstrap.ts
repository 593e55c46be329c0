import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DataContract } from '../core/contracts/contract.ts';
import { trainAnomalyModel, type AnomalyModel } from '../core/model/anomaly-model.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { loadModel } from '../model/invocations.ts';
import { MODEL_FILE, TRAINING_REPORT_FILE } from '../model/train.ts';

const TRAINING_PUMPS = 4;
/** An hour per pump: long enough for the ageing profile to see a baseline age. */
const TRAINING_READINGS_PER_PUMP = 3600;

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
  const rows = Array.from({ length: TRAINING_PUMPS }, (_, p) => {
    const pump = new PumpSimulator({ thing: `training-${p}`, seed: 9000 + p });
    return Array.from({ length: TRAINING_READINGS_PER_PUMP }, (_, i) => {
      const measures = pump.next(i * 1000).measures;
      return sensors.map((sensor) => measures[sensor] ?? Number.NaN);
    });
  }).flat();
  const model = trainAnomalyModel(
    { sensors, rows },
    {
      modelVersion: `${manifest.id}-simulated-${new Date().toISOString().slice(0, 10)}`,
      segments: new Array<number>(TRAINING_PUMPS).fill(TRAINING_READINGS_PER_PUMP),
      params: { calibrationRows: manifest.alerts.calibrationReadings },
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
