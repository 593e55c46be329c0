import type { HealthSample } from '../../core/drift/checks.ts';
import type { DriftReads, DriftReport, DriftSink, InferenceSample } from '../../core/drift/ports.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import type { DuckDbStore } from './duckdb-store.ts';
import type { Row } from './read-only-query.ts';
import { sqlText, timestampLiteral } from './sql.ts';

/** Rows a drift read may bring back: a device's inferences of a day at 1 Hz, with room. */
const MAX_ROWS = 200_000;

const range = (from: number, to: number) =>
  `time >= ${timestampLiteral(from)} AND time <= ${timestampLiteral(Math.ceil(to))}`;

function counts(value: unknown): Record<string, number> {
  if (typeof value !== 'string') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
    );
  } catch {
    return {};
  }
}

/**
 * The drift checks' reads and records in the local DuckDB file: readings, inferences and the edge
 * agents' health reports, read on the store's read-only connection; findings and data-loss
 * receipts kept in `drift_findings` and `data_receipts`.
 */
export class DuckDbDriftStore implements DriftReads, DriftSink {
  private constructor(private readonly store: DuckDbStore) {}

  static async open(store: DuckDbStore): Promise<DuckDbDriftStore> {
    await store.withWriter(async (c) => {
      await c.run(`
        CREATE TABLE IF NOT EXISTS drift_findings (
          use_case VARCHAR NOT NULL,
          "check" VARCHAR NOT NULL,
          device_id VARCHAR,
          sensor VARCHAR,
          model_version VARCHAR,
          figure DOUBLE NOT NULL,
          threshold DOUBLE NOT NULL,
          unit VARCHAR NOT NULL,
          summary VARCHAR NOT NULL,
          action VARCHAR NOT NULL,
          window_from TIMESTAMP NOT NULL,
          window_to TIMESTAMP NOT NULL,
          found_at TIMESTAMP NOT NULL
        );
        CREATE TABLE IF NOT EXISTS data_receipts (
          use_case VARCHAR NOT NULL,
          device_id VARCHAR NOT NULL,
          hour TIMESTAMP NOT NULL,
          received BIGINT NOT NULL,
          missing BIGINT NOT NULL,
          PRIMARY KEY (use_case, device_id, hour)
        );`);
    });
    return new DuckDbDriftStore(store);
  }

  readings(
    useCase: string,
    deviceId: string,
    window: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    return this.store.readings(useCase, deviceId, window, limit, 'reader');
  }

  async devices(useCase: string, window: { from: number; to: number }): Promise<string[]> {
    const rows = await this.rows(
      `SELECT DISTINCT device_id FROM telemetry WHERE use_case = ${sqlText(useCase)} AND ${range(window.from, window.to)} ORDER BY device_id`,
    );
    return rows.map((row) => String(row.device_id));
  }

  async inferences(
    useCase: string,
    deviceId: string,
    window: { from: number; to: number },
  ): Promise<InferenceSample[]> {
    const rows = await this.rows(
      `SELECT epoch_ms(time) AS t, status, anomalous, latency_ms, device_state FROM inferences
       WHERE use_case = ${sqlText(useCase)} AND device_id = ${sqlText(deviceId)} AND ${range(window.from, window.to)}`,
    );
    return rows.map((row) => ({
      time: Number(row.t),
      status: row.status === 'scored' ? 'scored' : 'skipped',
      anomalous: typeof row.anomalous === 'boolean' ? row.anomalous : null,
      latencyMs: numberOrNull(row.latency_ms),
      monitoring: row.device_state === 'monitoring',
    }));
  }

  async healthReports(
    useCase: string,
    deviceId: string,
    window: { from: number; to: number },
  ): Promise<HealthSample[]> {
    const rows = await this.rows(
      `SELECT epoch_ms(received_at) AS received_ms, report->>'timestamp' AS device_time,
         report->>'readings' AS readings, report->'spikes' AS spikes
       FROM device_health WHERE use_case = ${sqlText(useCase)} AND device_id = ${sqlText(deviceId)}
         AND received_at >= ${timestampLiteral(window.from)}
         AND received_at <= ${timestampLiteral(Math.ceil(window.to))}`,
    );
    return rows.map((row) => {
      const deviceTime = Date.parse(String(row.device_time));
      return {
        receivedAt: Number(row.received_ms),
        deviceTime: Number.isNaN(deviceTime) ? null : deviceTime,
        readings: Number(row.readings),
        spikes: counts(row.spikes),
      };
    });
  }

  async record(report: DriftReport): Promise<void> {
    await this.store.withWriter(async (c) => {
      for (const f of report.findings) {
        await c.run(
          `INSERT INTO drift_findings VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
             make_timestamp($11::BIGINT), make_timestamp($12::BIGINT), make_timestamp($13::BIGINT))`,
          [
            f.useCase,
            f.check,
            f.deviceId,
            f.sensor,
            f.modelVersion,
            f.figure,
            f.threshold,
            f.unit,
            f.summary,
            f.action,
            BigInt(f.from) * 1000n,
            BigInt(f.to) * 1000n,
            BigInt(f.at) * 1000n,
          ],
        );
      }
      // A later run sees more of an hour: its count replaces the earlier one.
      for (const r of report.receipts) {
        await c.run(
          `INSERT OR REPLACE INTO data_receipts VALUES ($1, $2, make_timestamp($3::BIGINT), $4, $5)`,
          [r.useCase, r.deviceId, BigInt(r.hour) * 1000n, r.received, r.missing],
        );
      }
    });
  }

  private async rows(sql: string): Promise<Row[]> {
    return (await this.store.query(sql, { maxRows: MAX_ROWS })).rows;
  }
}
