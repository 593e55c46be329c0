import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { DriftService } from '../../core/drift/drift-service.ts';
import type { DriftReport } from '../../core/drift/ports.ts';
import type { AlertStore } from '../../core/alerts/ports.ts';
import type { BaselineStore } from '../../core/baseline/ports.ts';
import type { Clock } from '../../core/ingest/ports.ts';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { UnknownUseCase } from '../../core/usecase/unknown-use-case.ts';
import type { DuckDbDriftStore } from '../store/drift-store.ts';

/**
 * The drift checks on one machine: each use case's checks every `drift.everyMinutes` of its
 * manifest (what EventBridge Scheduler does in the cloud), and on demand (`aiot drift check`).
 * One run at a time per use case; a stop waits for the one in progress.
 */
export class LocalDriftSchedule {
  private readonly service: DriftService;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<DriftReport>>();

  constructor(
    private readonly manifests: readonly UseCaseManifest[],
    contracts: ContractRegistry,
    store: DuckDbDriftStore,
    alerts: Pick<AlertStore, 'listAlerts'> & Pick<BaselineStore, 'get'>,
    /** The model scoring a use case, whose training profile data drift is measured against. */
    private readonly modelOf: (useCase: string) => AnomalyModel | undefined,
    private readonly clock: Clock,
    private readonly onReport: (report: DriftReport) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.service = new DriftService(contracts, store, alerts, alerts, store);
  }

  start(): void {
    for (const manifest of this.manifests) {
      const timer = setInterval(() => {
        this.run(manifest.id).then(this.onReport, this.onError);
      }, manifest.drift.everyMinutes * 60_000);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Runs the use case's checks now (or joins the run in progress) and answers its report. */
  run(useCase: string): Promise<DriftReport> {
    const manifest = this.manifests.find((m) => m.id === useCase);
    if (!manifest) {
      return Promise.reject(
        new UnknownUseCase(
          useCase,
          this.manifests.map((m) => m.id),
        ),
      );
    }
    const inProgress = this.running.get(useCase);
    if (inProgress) return inProgress;
    const run = this.service
      .run(manifest, this.modelOf(useCase), this.clock.now())
      .finally(() => this.running.delete(useCase));
    this.running.set(useCase, run);
    return run;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled(this.running.values());
  }
}
