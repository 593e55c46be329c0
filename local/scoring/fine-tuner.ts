import type { AlertStore } from '../../core/alerts/ports.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { DEFAULT_FINE_TUNE, fineTuneDue } from '../../core/model/fine-tune.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { StoreQuery } from '../store/query-client.ts';
import { registerPending, trainCandidate } from './candidate-training.ts';
import { FileModelRegistry } from './model-registry.ts';

export interface FineTunerOptions {
  readonly dataDir: string;
  /** The use cases with a model. */
  readonly manifests: readonly UseCaseManifest[];
  readonly contracts: ContractRegistry;
  readonly alertStore: Pick<AlertStore, 'feedback'>;
  readonly query: StoreQuery;
  readonly clock: { now(): number };
  /** How often the verdicts are looked at. @default 60 000 */
  readonly checkEveryMs?: number;
  /** A candidate was registered, pending a person's approval. */
  readonly onCandidate?: (useCase: string, version: string, reason: string) => void;
  /** A candidate could not be trained (too few readings, a model folder of another kind). */
  readonly onError: (error: unknown) => void;
}

/**
 * The runtime's side of "a false positive triggers fine-tuning": it looks at the operators'
 * false-positive verdicts since each use case's last candidate and, when the manifest's
 * `model.fineTune` says one is due, trains a candidate on recent readings, compares it with the
 * live model on the verdicts and registers it as pending (audit event `model-trained`, by the
 * system, with why). It never makes a candidate live: a person approves it (`aiot model approve`).
 * Stateless between checks: what counts comes from the registry and the stored verdicts, so a
 * restart loses nothing.
 */
export class LocalFineTuner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** Per use case, the newest verdict a failed attempt saw: it is not retried until a newer one. */
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly options: FineTunerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.check();
    }, this.options.checkEveryMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Looks at every use case now; resolves once any candidate it started is registered. */
  check(): Promise<void> {
    this.running = this.running.then(async () => {
      for (const manifest of this.options.manifests) {
        try {
          await this.checkUseCase(manifest);
        } catch (error) {
          this.options.onError(error);
        }
      }
    });
    return this.running;
  }

  private async checkUseCase(manifest: UseCaseManifest): Promise<void> {
    const policy = manifest.model?.fineTune ?? DEFAULT_FINE_TUNE;
    const registry = FileModelRegistry.inDataDir(this.options.dataDir, manifest.id).read();
    const since = Math.max(0, ...registry.versions.map((version) => version.trainedAt));
    const verdicts = (await this.options.alertStore.feedback(manifest.id, since + 1))
      .filter((feedback) => feedback.label === 'normal' && feedback.at > since)
      .map((feedback) => feedback.at);
    const newest = Math.max(0, ...verdicts);
    if (newest <= (this.failedAt.get(manifest.id) ?? 0)) return;
    const now = this.options.clock.now();
    const reason = fineTuneDue(verdicts, now, policy);
    if (!reason) return;
    try {
      const run = await trainCandidate({
        dataDir: this.options.dataDir,
        manifest,
        contract: this.options.contracts.get(manifest.contract),
        query: this.options.query,
        days: policy.days,
        now,
      });
      await registerPending(this.options.dataDir, manifest, run, {
        actor: SYSTEM,
        reason,
        days: policy.days,
        now,
      });
      this.failedAt.delete(manifest.id);
      this.options.onCandidate?.(manifest.id, run.candidate.modelVersion, reason);
    } catch (error) {
      this.failedAt.set(manifest.id, newest);
      throw new Error(
        `${manifest.id}: no candidate after false-positive verdicts: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}
