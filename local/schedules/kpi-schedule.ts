import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { KpiDay } from '../../core/kpi/kpi.ts';
import {
  computeMissingKpiDays,
  finalKeys,
  type KeptKpiDays,
  type StoredKpiDay,
} from '../../core/kpi/schedule.ts';
import type { Clock } from '../../core/ingest/ports.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import type { QueryResult } from '../store/read-only-query.ts';
import { timestampLiteral } from '../store/sql.ts';
import { StoreKpiReads } from '../store/kpi-reads.ts';
import { updateMv } from '../../core/kpi/mv/kept-mv.ts';
import { DuckDbMvTables } from './mv-tables.ts';

const EVERY_MS = 3600_000;

/**
 * The days the runtime kept, from the `kpis` table (none before it exists). A row from before
 * days had a coverage counts as none: it is computed again.
 */
export async function kpiDaysIn(query: (sql: string) => Promise<QueryResult>): Promise<StoredKpiDay[]> {
  const { rows } = await query(
    "SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'kpis' AND column_name = 'coverage'",
  );
  if (Number(rows[0]?.n) === 0) return [];
  const days = await query(
    'SELECT use_case, kpi, epoch_ms(day) AS day, numerator, denominator, coverage, epoch_ms(computed_at) AS computed_at FROM kpis',
  );
  return days.rows.map((row) => ({
    useCase: String(row.use_case),
    kpi: String(row.kpi),
    day: Number(row.day),
    numerator: Number(row.numerator),
    denominator: Number(row.denominator),
    coverage: row.coverage === null ? 0 : Number(row.coverage),
    computedAt: row.computed_at === null ? null : Number(row.computed_at),
  }));
}

/**
 * The KPIs on one machine: every hour, each computed KPI's full days not yet in the `kpis` table
 * (the last week) are computed from the store and kept, one row per use case, KPI and day: what
 * EventBridge Scheduler and a Lambda would do in the cloud. A day is computed once it is over.
 */
export class LocalKpiSchedule implements KeptKpiDays {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: DuckDbStore,
    private readonly manifests: readonly UseCaseManifest[],
    private readonly contracts: ContractRegistry,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
    private readonly mv: DuckDbMvTables,
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
        );
        -- The share of the day with data; rows kept before it was recorded are NULL, and recomputed.
        ALTER TABLE kpis ADD COLUMN IF NOT EXISTS coverage DOUBLE;`),
    );
    return new LocalKpiSchedule(
      store,
      manifests,
      contracts,
      clock,
      onError,
      await DuckDbMvTables.open(store),
    );
  }

  start(): void {
    const run = () => {
      this.running = this.running
        .then(() => this.computeMissing())
        .catch((error: unknown) => {
          this.onError(error);
        });
    };
    run();
    this.timer = setInterval(run, EVERY_MS);
    this.timer.unref();
  }

  /**
   * Computes and keeps the days of the last week that do not stand yet (no data, or too recent for
   * late data to be ruled out), then the M&V points and savings of the KPIs with a baseline;
   * answers how many days and M&V points it wrote.
   */
  async computeMissing(): Promise<{ readonly days: number; readonly mvPoints: number }> {
    const query = (sql: string) => this.store.query(sql);
    const known = finalKeys(await kpiDaysIn(query));
    const computed: KpiDay[] = [];
    let mvPoints = 0;
    for (const manifest of this.manifests) {
      const reads = new StoreKpiReads(query, this.contracts.get(manifest.contract));
      computed.push(...(await computeMissingKpiDays(manifest, reads, known, this.clock.now())));
      // One machine reads its own disk: no budget, the whole catch-up in one run.
      const mv = await updateMv(manifest, reads, this.mv, this.clock.now(), {
        runsSql: true,
        budgetMs: Infinity,
      });
      mvPoints += mv.points;
    }
    if (computed.length === 0) return { days: 0, mvPoints };
    const now = this.clock.now();
    await this.store.withWriter((c) =>
      c.run(
        `INSERT OR REPLACE INTO kpis (use_case, kpi, day, numerator, denominator, computed_at, coverage) VALUES ${computed
          .map(
            (row) =>
              `(${[row.useCase, row.kpi].map((text) => `'${text.replace(/'/g, "''")}'`).join(', ')}, ${timestampLiteral(row.day)}, ${row.numerator}, ${row.denominator}, ${timestampLiteral(now)}, ${row.coverage})`,
          )
          .join(', ')}`,
      ),
    );
    return { days: computed.length, mvPoints };
  }

  async since(useCase: string, since: number): Promise<StoredKpiDay[]> {
    return (await kpiDaysIn((sql) => this.store.query(sql))).filter(
      (row) => row.useCase === useCase && row.day >= since,
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
