import type {
  DeviceActivity,
  EdgeHealthSnapshot,
  OperatorReads,
  Series,
  SeriesRequest,
} from '../../core/operators/ports.ts';
import { seriesFromBuckets } from '../../core/operators/views.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import type { Finding } from '../../core/drift/ports.ts';
import type { DuckDbStore } from './duckdb-store.ts';
import type { Row } from './read-only-query.ts';
import { sqlText, timestampLiteral } from './sql.ts';

const COLUMN = /^[a-z][a-z0-9_]*$/;
/** The device page lists at most this many findings. */
const MAX_FINDINGS = 100;

/**
 * The console's reads from the local DuckDB file, on the store's read-only connection (ingest
 * never waits for them): when each device was last heard from, and its readings and scores
 * averaged into plot buckets.
 */
export class DuckDbOperatorReads implements OperatorReads {
  constructor(private readonly store: DuckDbStore) {}

  async activity(useCase?: string, deviceId?: string): Promise<DeviceActivity[]> {
    const conditions = [
      ...(useCase === undefined ? [] : [`use_case = ${sqlText(useCase)}`]),
      ...(deviceId === undefined ? [] : [`device_id = ${sqlText(deviceId)}`]),
    ];
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const [seen, models, health] = await Promise.all([
      this.rows(
        `SELECT use_case, device_id, epoch_ms(max(time)) AS last_ms FROM telemetry ${where} GROUP BY ALL`,
      ),
      this.rows(
        `SELECT use_case, device_id, arg_max(model_version, time) AS model_version FROM inferences
         ${where ? `${where} AND` : 'WHERE'} model_version IS NOT NULL GROUP BY ALL`,
      ),
      this.rows(
        `SELECT use_case, device_id, epoch_ms(max(received_at)) AS received_ms,
           arg_max(connected, received_at) AS connected, arg_max(queue_depth, received_at) AS queue_depth,
           arg_max(oldest_age_s, received_at) AS oldest_age_s
         FROM device_health ${where} GROUP BY ALL`,
      ),
    ]);
    const devices = new Map<string, { useCase: string; deviceId: string }>();
    const key = (row: Row) => `${String(row.use_case)}\u0000${String(row.device_id)}`;
    for (const row of [...seen, ...models, ...health]) {
      devices.set(key(row), { useCase: String(row.use_case), deviceId: String(row.device_id) });
    }
    const byKey = (rows: Row[]) => new Map(rows.map((row) => [key(row), row]));
    const [seenBy, modelsBy, healthBy] = [byKey(seen), byKey(models), byKey(health)];
    return [...devices].map(([k, device]) => {
      const report = healthBy.get(k);
      const snapshot: EdgeHealthSnapshot | null = report
        ? {
            receivedAt: Number(report.received_ms),
            connected: report.connected === null ? null : Boolean(report.connected),
            queueDepth: numberOrNull(report.queue_depth),
            oldestAgeSeconds: numberOrNull(report.oldest_age_s),
          }
        : null;
      const model = modelsBy.get(k)?.model_version;
      return {
        ...device,
        lastReadingAt: numberOrNull(seenBy.get(k)?.last_ms),
        modelVersion: typeof model === 'string' ? model : null,
        health: snapshot,
      };
    });
  }

  async series(request: SeriesRequest): Promise<Series> {
    for (const { column } of request.sensors) {
      if (!COLUMN.test(column)) throw new Error(`"${column}" is not a column this reader accepts`);
    }
    const bucket = Math.max(1, Math.floor(request.bucketMs));
    const range = `use_case = ${sqlText(request.useCase)} AND device_id = ${sqlText(request.deviceId)}
      AND time >= ${timestampLiteral(request.from)} AND time < ${timestampLiteral(Math.ceil(request.to))}`;
    const averages = request.sensors.map(({ column }) => `avg(${column}) AS ${column}`);
    const [readings, scores] = await Promise.all([
      this.rows(
        `SELECT (epoch_ms(time) // ${bucket}) * ${bucket} AS t${averages.map((a) => `, ${a}`).join('')}
         FROM telemetry WHERE ${range} GROUP BY 1 ORDER BY 1`,
      ),
      this.rows(
        `SELECT (epoch_ms(time) // ${bucket}) * ${bucket} AS t, max(score) AS score, max(threshold) AS threshold
         FROM inferences WHERE ${range} GROUP BY 1 ORDER BY 1`,
      ),
    ]);
    return seriesFromBuckets(request.sensors, readings, scores);
  }

  async findings(useCase: string, deviceId: string, since: number): Promise<Finding[]> {
    const rows = await this.rows(
      `SELECT use_case, "check", device_id, sensor, model_version, figure, threshold, unit, summary, action,
         epoch_ms(window_from) AS from_ms, epoch_ms(window_to) AS to_ms, epoch_ms(found_at) AS at_ms
       FROM drift_findings
       WHERE use_case = ${sqlText(useCase)} AND device_id = ${sqlText(deviceId)}
         AND found_at >= ${timestampLiteral(since)}
       ORDER BY found_at DESC, "check" LIMIT ${MAX_FINDINGS}`,
    );
    return rows.map((row) => ({
      useCase: String(row.use_case),
      check: String(row.check) as Finding['check'],
      deviceId: String(row.device_id),
      sensor: typeof row.sensor === 'string' ? row.sensor : null,
      modelVersion: typeof row.model_version === 'string' ? row.model_version : null,
      figure: Number(row.figure),
      threshold: Number(row.threshold),
      unit: String(row.unit),
      summary: String(row.summary),
      action: String(row.action),
      from: Number(row.from_ms),
      to: Number(row.to_ms),
      at: Number(row.at_ms),
    }));
  }

  private async rows(sql: string): Promise<Row[]> {
    return (await this.store.query(sql)).rows;
  }
}
