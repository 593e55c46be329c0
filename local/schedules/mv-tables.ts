import type { DuckDBValue } from '@duckdb/node-api';
import type { KeptMvPoint, KeptSavings, MvKeeping } from '../../core/kpi/mv/kept-mv.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import { asJson, asTimestamp, sqlText, valuesList } from '../store/sql.ts';

const micros = (ms: number): bigint => BigInt(ms) * 1000n;
const number = (value: unknown): number | null => (value === null ? null : Number(value));

/**
 * The M&V of the KPIs with a baseline in the local store, beside the `kpis` table:
 * `kpi_mv_points` holds each interval's quantity and variables as computed once (docs/kpis.md),
 * `kpi_savings` each KPI's latest figures (fit, savings, uncertainty, the model).
 */
export class DuckDbMvTables implements MvKeeping {
  private constructor(private readonly store: DuckDbStore) {}

  static async open(store: DuckDbStore): Promise<DuckDbMvTables> {
    await store.withWriter((c) =>
      c.run(`
        CREATE TABLE IF NOT EXISTS kpi_mv_points (
          use_case VARCHAR NOT NULL,
          kpi VARCHAR NOT NULL,
          interval_start TIMESTAMP NOT NULL,
          -- NULL where the interval had no full data: left out of the fit.
          measured DOUBLE,
          variables JSON NOT NULL,
          computed_at TIMESTAMP NOT NULL,
          PRIMARY KEY (use_case, kpi, interval_start)
        );
        CREATE TABLE IF NOT EXISTS kpi_savings (
          use_case VARCHAR NOT NULL,
          kpi VARCHAR NOT NULL,
          computed_at TIMESTAMP NOT NULL,
          status VARCHAR NOT NULL,
          reasons JSON NOT NULL,
          unit VARCHAR NOT NULL,
          "interval" VARCHAR NOT NULL,
          baseline_from DATE,
          baseline_to DATE,
          reporting_from DATE,
          cv_rmse_pct DOUBLE,
          nmbe_pct DOUBLE,
          r2 DOUBLE,
          reporting_intervals INTEGER NOT NULL,
          measured DOUBLE,
          predicted DOUBLE,
          savings DOUBLE,
          savings_pct DOUBLE,
          uncertainty_68_pct DOUBLE,
          uncertainty_90_pct DOUBLE,
          model JSON,
          PRIMARY KEY (use_case, kpi)
        );`),
    );
    return new DuckDbMvTables(store);
  }

  async points(useCase: string, kpi: string): Promise<KeptMvPoint[]> {
    const { rows } = await this.store.query(
      `SELECT epoch_ms(interval_start) AS start, measured, variables::VARCHAR AS variables, epoch_ms(computed_at) AS computed_at
       FROM kpi_mv_points WHERE use_case = ${sqlText(useCase)} AND kpi = ${sqlText(kpi)} ORDER BY interval_start`,
    );
    return rows.map((row) => ({
      useCase,
      kpi,
      from: Number(row.start),
      y: number(row.measured),
      x: JSON.parse(String(row.variables)) as Record<string, number>,
      computedAt: Number(row.computed_at),
    }));
  }

  async putPoints(points: readonly KeptMvPoint[]): Promise<void> {
    if (points.length === 0) return;
    const { sql, params } = valuesList<DuckDBValue>(
      points.map((p) => [p.useCase, p.kpi, micros(p.from), p.y, JSON.stringify(p.x), micros(p.computedAt)]),
      { 2: asTimestamp, 4: asJson, 5: asTimestamp },
    );
    await this.store.withWriter((c) =>
      c.run(
        `INSERT OR REPLACE INTO kpi_mv_points (use_case, kpi, interval_start, measured, variables, computed_at) VALUES ${sql}`,
        params,
      ),
    );
  }

  async putSavings(savings: readonly KeptSavings[]): Promise<void> {
    if (savings.length === 0) return;
    const { sql, params } = valuesList<DuckDBValue>(
      savings.map((s) => [
        s.useCase,
        s.kpi,
        micros(s.computedAt),
        s.status,
        JSON.stringify(s.reasons),
        s.unit,
        s.interval,
        s.baselineFrom,
        s.baselineTo,
        s.reportingFrom,
        s.cvRmsePct,
        s.nmbePct,
        s.r2,
        s.reportingIntervals,
        s.measured,
        s.predicted,
        s.savings,
        s.savingsPct,
        s.uncertainty68Pct,
        s.uncertainty90Pct,
        s.model === null ? null : JSON.stringify(s.model),
      ]),
      {
        2: asTimestamp,
        4: asJson,
        7: (ref) => `${ref}::DATE`,
        8: (ref) => `${ref}::DATE`,
        9: (ref) => `${ref}::DATE`,
        20: asJson,
      },
    );
    await this.store.withWriter((c) =>
      c.run(
        `INSERT OR REPLACE INTO kpi_savings (use_case, kpi, computed_at, status, reasons, unit, "interval",
           baseline_from, baseline_to, reporting_from, cv_rmse_pct, nmbe_pct, r2, reporting_intervals,
           measured, predicted, savings, savings_pct, uncertainty_68_pct, uncertainty_90_pct, model)
         VALUES ${sql}`,
        params,
      ),
    );
  }
}
