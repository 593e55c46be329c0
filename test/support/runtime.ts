import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { seedTrainedModels } from './trained-models.ts';

/**
 * A scoring runtime with the shipped use cases on free ports in a fresh folder, and how to remove
 * it. The folder starts with the run's trained models (./trained-models.ts), as after a first start.
 */
export async function startTestRuntime(
  prefix: string,
  options: Partial<LocalRuntimeOptions> = {},
): Promise<{ runtime: LocalRuntime; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const runtime = await startRuntimeOn(dataDir, { batchWindowMs: 20, ...options });
  return {
    runtime,
    dataDir,
    stop: async () => {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A scoring runtime with the shipped use cases on free ports, over a folder a test filled itself. */
export async function startRuntimeOn(
  dataDir: string,
  options: Partial<LocalRuntimeOptions> = {},
): Promise<LocalRuntime> {
  seedTrainedModels(dataDir);
  return LocalRuntime.start({ ...loadCatalog(), dataDir, mqttPort: 0, apiPort: 0, modelPort: 0, ...options });
}
