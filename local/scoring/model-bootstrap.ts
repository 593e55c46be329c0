import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DataContract } from '../../core/contracts/contract.ts';
import {
  anomalyModelParamsSchema,
  trainAnomalyModel,
  type AnomalyModel,
} from '../../core/model/anomaly-model.ts';
import { trainWithSelection } from '../../core/model/selection.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { loadModel } from '../../model/invocations.ts';
import { MODEL_FILE, TRAINING_REPORT_FILE } from '../../model/train.ts';
import { simulationSelectionData } from './simulated-selection-data.ts';

/** The manifest's model features as contract measure names (the model's sensor names). */
export function modelFeatures(manifest: UseCaseManifest): string[] {
  const fields = manifest.model?.features ?? manifest.sensors.map((sensor) => sensor.field);
  return fields.map((field) => field.replace(/^measures\./, ''));
}

/**
 * Trains a use case's model on simulated normal running of its fleet. A use case described by
 * its manifest's `simulation:` has the settings it leaves open chosen on simulated devices the fit
 * does not see (normal running and each declared fault); the pumps, whose defaults were measured
 * on real pump recordings (SKAB, docs/benchmarks.md), keep those. Seconds, not the days live data
 * would take.
 */
export function trainSimulatedModel(manifest: UseCaseManifest, contract: DataContract): AnomalyModel {
  const sensors = modelFeatures(manifest).filter((name) => name in contract.measures);
  const data = simulationSelectionData(manifest, contract, sensors, manifest.simulation !== undefined);
  const own = manifest.model?.params ?? {};
  const base = anomalyModelParamsSchema.parse({
    samplingSeconds: data.readingSeconds,
    ...own,
    calibrationRows: manifest.alerts.calibrationReadings,
  });
  const modelVersion = `${manifest.id}-simulated-${new Date().toISOString().slice(0, 10)}`;
  if (!manifest.simulation)
    return trainAnomalyModel(data.training, { modelVersion, segments: data.segments, params: base });
  return trainWithSelection({
    data,
    training: data.training,
    segments: data.segments,
    base,
    pinned: new Set(Object.keys(own)),
    modelVersion,
  });
}

/**
 * Loads the last model of a use case from `<modelDir>`, or trains one from simulated normal
 * operation (`trainSimulatedModel`) and saves it there in the container's format, so
 * `aiot model serve --model-dir` serves it too.
 */
export function ensureLocalModel(
  manifest: UseCaseManifest,
  contract: DataContract,
  modelDir: string,
): { model: AnomalyModel; trained: boolean } {
  if (existsSync(path.join(modelDir, MODEL_FILE))) {
    const model = loadModel(modelDir);
    // A simulated model from before the settings were chosen per use case has no selection (nor,
    // older still, an ageing profile): it costs seconds to train again; a model someone trained is kept.
    const outdated =
      model.modelVersion.includes('-simulated-') &&
      (!model.ageing || (manifest.simulation !== undefined && !model.selection));
    if (!outdated) return { model, trained: false };
  }
  const model = trainSimulatedModel(manifest, contract);
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, MODEL_FILE), `${JSON.stringify(model)}\n`);
  writeFileSync(
    path.join(modelDir, TRAINING_REPORT_FILE),
    `${JSON.stringify(
      {
        modelVersion: model.modelVersion,
        source: 'simulated normal operation',
        rows: model.training.rows,
        tracked: model.tracked.map((t) => t.sensor),
        untracked: model.untracked,
        threshold: model.threshold,
        params: model.params,
        selection: model.selection,
      },
      null,
      2,
    )}\n`,
  );
  return { model, trained: true };
}
