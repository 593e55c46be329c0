import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inject } from 'vitest';
import { ensureLocalModel } from '../../local/scoring/model-bootstrap.ts';
import { loadCatalog } from '../../usecases/catalog.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A folder with each shipped use case's simulated model, trained once for the run. */
    trainedModels: string;
  }
}

/**
 * Trains each shipped use case's model on its simulation once, as a first `npm start` does, into
 * a folder per use case (`<folder>/<use case>`). Every runtime that scores would otherwise train
 * the same models again: 15 to 30 s of CPU per start on two cores. Returns the folder and how to
 * remove it.
 */
export function trainShippedModels(): { folder: string; remove: () => void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'aiot-test-models-'));
  const { useCases, contracts } = loadCatalog();
  for (const useCase of useCases) {
    ensureLocalModel(useCase, contracts.get(useCase.contract), path.join(folder, useCase.id));
  }
  return {
    folder,
    remove: () => {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * Puts the run's trained models into a runtime's data folder (`<dataDir>/models/<use case>`), where
 * the runtime finds them instead of training. Tests of training itself (the audit of a first
 * start, a new use case) start without them.
 */
export function seedTrainedModels(dataDir: string): void {
  cpSync(inject('trainedModels'), path.join(dataDir, 'models'), { recursive: true });
}
