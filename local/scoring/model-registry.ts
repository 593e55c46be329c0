import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { AuditEvent, AuditTrail } from '../../core/audit/audit-event.ts';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import { emptyRegistry, registrySchema, type ModelRegistry } from '../../core/model/registry.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { issuesText } from '../../core/contracts/reasons.ts';
import { loadModel } from '../../model/invocations.ts';
import { MODEL_FILE } from '../../model/train.ts';
import { writeFileDurably } from '../files/durable-file.ts';
import { withFileLock } from '../files/file-lock.ts';

const REGISTRY_FILE = 'registry.json';
const LOCK_FILE = 'registry.lock';

/**
 * A use case's model registry on one machine, in its model folder (`<dataDir>/models/<use case>/`):
 * `registry.json` (versions, their status and decisions, which is live), each version's model in
 * `versions/<version>/`, and the live one's copy in `model.json`, which the runtime and
 * `aiot model serve` load. The CLI and the runtime may both change it: a lock file serialises them.
 */
export class FileModelRegistry {
  constructor(
    readonly modelDir: string,
    readonly useCase: string,
  ) {}

  static inDataDir(dataDir: string, useCase: string): FileModelRegistry {
    return new FileModelRegistry(path.join(dataDir, 'models', useCase), useCase);
  }

  get file(): string {
    return path.join(this.modelDir, REGISTRY_FILE);
  }

  versionDir(version: string): string {
    return path.join(this.modelDir, 'versions', version);
  }

  /**
   * The registry. A model folder from before the registry (or the model a fresh runtime trained
   * on simulated data) has its live model only: it is listed as the live version, approved by
   * the system, until the first change writes the registry down.
   */
  read(): ModelRegistry {
    if (existsSync(this.file)) {
      const parsed = registrySchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (!parsed.success)
        throw new Error(`${this.file} is not a model registry: ${issuesText(parsed.error.issues)}`);
      return parsed.data;
    }
    if (!existsSync(path.join(this.modelDir, MODEL_FILE))) return emptyRegistry(this.useCase);
    const model = loadModel(this.modelDir);
    // The model file does not say when it was trained; the file's time is the closest record.
    const trainedAt = Math.round(statSync(path.join(this.modelDir, MODEL_FILE)).mtimeMs);
    const reason = model.modelVersion.includes('-simulated-')
      ? 'the first model of this data folder, trained on simulated normal operation'
      : 'live before the registry existed';
    return {
      useCase: this.useCase,
      live: model.modelVersion,
      liveHistory: [model.modelVersion],
      versions: [
        {
          version: model.modelVersion,
          status: 'approved',
          trainedBy: SYSTEM,
          trainedAt,
          trainingData: `${model.training.rows} readings (in the model folder before the registry)`,
          parameters: { ...model.params },
          metrics: {},
          card: {
            intendedUse: 'the model this data folder started with',
            inputs: model.sensors,
            knownLimits: ['registered without a review: it was live before the registry existed'],
          },
          decisions: [
            {
              action: 'approve',
              actor: SYSTEM,
              at: trainedAt,
              reason,
            },
          ],
        },
      ],
    };
  }

  /** The live version's model: what the runtime scores with. */
  liveModel(): AnomalyModel {
    return loadModel(this.modelDir);
  }

  /** Keeps a trained version's model beside the registry; `change` then registers it. */
  keepVersion(model: AnomalyModel): void {
    const dir = this.versionDir(model.modelVersion);
    mkdirSync(dir, { recursive: true });
    writeFileDurably(path.join(dir, MODEL_FILE), `${JSON.stringify(model)}\n`);
  }

  /**
   * Applies a lifecycle step under the lock, then writes the registry and, when the live version
   * changed, its model to `model.json`; then records the step's audit events. Throws (writing
   * nothing) when the step is refused.
   */
  async change(
    step: (registry: ModelRegistry) => { registry: ModelRegistry; events: readonly AuditEvent[] },
    audit: AuditTrail,
  ): Promise<ModelRegistry> {
    mkdirSync(this.modelDir, { recursive: true });
    const { registry, events } = await withFileLock(path.join(this.modelDir, LOCK_FILE), () => {
      const before = this.read();
      // The model a registry-less folder started with becomes a version like any other.
      if (!existsSync(this.file) && before.live && !existsSync(this.versionDir(before.live))) {
        mkdirSync(this.versionDir(before.live), { recursive: true });
        copyFileSync(
          path.join(this.modelDir, MODEL_FILE),
          path.join(this.versionDir(before.live), MODEL_FILE),
        );
      }
      const result = step(before);
      if (result.registry.live && result.registry.live !== before.live) {
        writeFileDurably(
          path.join(this.modelDir, MODEL_FILE),
          readFileSync(path.join(this.versionDir(result.registry.live), MODEL_FILE), 'utf8'),
        );
      }
      writeFileDurably(this.file, `${JSON.stringify(result.registry, null, 2)}\n`);
      return result;
    });
    for (const event of events) await audit.record(event);
    return registry;
  }
}
