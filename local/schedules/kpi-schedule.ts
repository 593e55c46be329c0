import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { KpiDay } from '../../core/kpi/kpi.ts';
import { computeMissingKpiDays, kpiDayKey } from '../../core/kpi/schedule.ts';
import type { Clock } from '../../core/ingest/ports.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { DuckDbStore, QueryResult } from '../store/duckdb-store.ts';
import { StoreKpiReads } from '../store/kpi-reads.ts';

const EVERY_MS = 3600_000;

/** The days the runtime computed, from the `kpis` table (none before it exists). */
export async function kpiDaysIn(query: (sql: string) => Promise<QueryResult>): Promise<KpiDay[]> {
  const { rows } = await query(
    "SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = 'kpis'",
  );
  if (Number(rows[0]?.n) === 0) return [];
  const days = await query('SELECT use_case, kpi, epoch_ms(day) AS day, numerator, denominator FROM kpis');
  return days.rows.map((row) => ({
    useCase: String(row.use_case),
    kpi: String(row.kpi),
    day: Number(row.day),
    numerator: Number(row.numerator),
    denominator: Number(row.denominator),
  }));
}

/**
 * The KPIs on one machine: every hour, each computed KPI's full days not yet in the `kpis` table
 * (the last week) are computed from the store and kept, one row per use case, KPI and day: what
 * EventBridge Scheduler and a Lambda would do in the cloud. A day is computed once it is over.
 */
export class LocalKpiSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> = Promise.resolve(0);

  private constructor(
    private readonly store: DuckDbStore,
    private readonly manifests: readonly UseCaseManifest[],
    private readonly contracts: ContractRegistry,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  static async open(
    store: DuckDbStore,
    manifests: readonly UseCaseManifest[],
    contracts: ContractRegistry,
    clock: Clock,
    onError: (error: unknown) => void,
  ): Promise<LocalKpiSchedule> {
    await store.withWriter((c) =>
      c.run(`
        CREATE TABLE IF NOT EXISTS kpis (
          use_case VARCHAR NOT NULL,
          kpi VARCHAR NOT NULL,
          day TIMESTAMP NOT NULL,
          numerator DOUBLE NOT NULL,
          denominator DOUBLE NOT NULL,
          computed_at TIMESTAMP NOT NULL,
          PRIMARY KEY (use_case, kpi, day)
        );`),
    );
    return new LocalKpiSchedule(store, manifests, contracts, clock, onError);
  }

  start(): void {
    const run = () => {
      this.running = this.running
        .then(() => this.computeMissing())
        .catch((error: unknown) => {
          this.onError(error);
          return 0;
        });
    };
    run();
    this.timer = setInterval(run, EVERY_MS);
    this.timer.unref();
  }

  /** Computes and keeps the missing full days of the last week; answers how many rows it wrote. */
  async computeMissing(): Promise<number> {
    const query = (sql: string) => this.store.query(sql);
    const known = new Set((await kpiDaysIn(query)).map(kpiDayKey));
    const computed: KpiDay[] = [];
    for (const manifest of this.manifests) {
      const reads = new StoreKpiReads(query, this.contracts.get(manifest.contract));
      computed.push(...(await computeMissingKpiDays(manifest, reads, known, this.clock.now())));
    }
    if (computed.length === 0) return 0;
    const micros = (ms: number) => `make_timestamp(${Math.floor(ms) * 1000}::BIGINT)`;
    const now = this.clock.now();
    await this.store.withWriter((c) =>
      c.run(
        `INSERT OR REPLACE INTO kpis VALUES ${computed
          .map(
            (row) =>
              `(${[row.useCase, row.kpi].map((text) => `'${text.replace(/'/g, "''")}'`).join(', ')}, ${micros(row.day)}, ${row.numerator}, ${row.denominator}, ${micros(now)})`,
          )
          .join(', ')}`,
      ),
    );
    return computed.length;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
