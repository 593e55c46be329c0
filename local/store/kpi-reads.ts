import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import { kpiColumns, kpiReadingFromRow, type KpiReading, type KpiReads } from '../../core/kpi/kpi.ts';
import type { QueryResult, Row } from './read-only-query.ts';
import { sqlText, timestampLiteral } from './sql.ts';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * KPI reads over the local store, through a read-only query function: the runtime's own store,
 * or `queryLocalStore` from the CLI (the running runtime's query API, else the file).
 */
export class StoreKpiReads implements KpiReads {
  constructor(
    private readonly query: (sql: string) => Promise<QueryResult>,
    private readonly contract: DataContract,
  ) {}

  async readings(
    useCase: string,
    fields: readonly string[],
    from: number,
    to: number,
  ): Promise<KpiReading[]> {
    const columns = kpiColumns(this.contract, fields);
    // Minute means, an hour at a time: a day of a fleet at 1 Hz would not fit one answer.
    const rows: Row[] = [];
    for (let start = from; start < to; start += HOUR_MS)
      rows.push(...(await this.minuteMeans(useCase, columns, start, Math.min(to, start + HOUR_MS))));
    return rows.map((row) => kpiReadingFromRow(String(row.device_id), Number(row.t), fields, row));
  }

  /** Each device's minute means in [start, end), in halves of the window until an answer holds them. */
  private async minuteMeans(
    useCase: string,
    columns: readonly string[],
    start: number,
    end: number,
  ): Promise<Row[]> {
    const result = await this.query(
      `SELECT device_id, epoch_ms(time_bucket(INTERVAL 1 minute, time)) AS t${columns.map((column, index) => `, avg("${column}") AS v${index}`).join('')}
       FROM telemetry WHERE use_case = ${sqlText(useCase)}
         AND time >= ${timestampLiteral(start)} AND time < ${timestampLiteral(end)}
       GROUP BY device_id, t ORDER BY t`,
    );
    if (!result.truncated) return result.rows;
    // Split on a minute boundary, so that no minute's mean is taken in two parts.
    const middle = Math.floor((start + end) / 2 / MINUTE_MS) * MINUTE_MS;
    if (middle <= start)
      throw new Error(
        `the ${useCase} readings of one minute do not fit one query answer (more than ${result.rows.length} rows): too many devices for the local KPI reads`,
      );
    return [
      ...(await this.minuteMeans(useCase, columns, start, middle)),
      ...(await this.minuteMeans(useCase, columns, middle, end)),
    ];
  }

  async devices(useCase: string, from: number, to: number): Promise<number> {
    const { rows } = await this.query(
      `SELECT count(DISTINCT device_id)::INTEGER AS n FROM telemetry WHERE use_case = ${sqlText(useCase)}
         AND time >= ${timestampLiteral(from)} AND time < ${timestampLiteral(to)}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async alerts(useCase: string, from: number, to: number): Promise<Alert[]> {
    const { rows } = await this.query(
      `SELECT alert FROM alerts WHERE use_case = ${sqlText(useCase)}
         AND opened_at < ${timestampLiteral(to)} AND (cleared_at IS NULL OR cleared_at >= ${timestampLiteral(from)})`,
    );
    return rows.map((row) => JSON.parse(String(row.alert)) as Alert);
  }

  async firstReading(useCase: string, from: number, to: number): Promise<number | null> {
    const { rows } = await this.query(
      `SELECT epoch_ms(min(time)) AS t FROM telemetry WHERE use_case = ${sqlText(useCase)}
         AND time >= ${timestampLiteral(from)} AND time < ${timestampLiteral(to)}`,
    );
    const first = rows[0]?.t;
    return first === null || first === undefined ? null : Number(first);
  }

  async sql(
    query: string,
    from: number,
    to: number,
  ): Promise<{ numerator: number | null; denominator: number }> {
    const bound = query.replaceAll('$from', timestampLiteral(from)).replaceAll('$to', timestampLiteral(to));
    const { rows } = await this.query(bound);
    const [row] = rows;
    if (!row || !('numerator' in row))
      throw new Error('a KPI query answers one row with a numerator column (and a denominator for a rate)');
    const number = (value: unknown, fallback: number) =>
      value === null || value === undefined ? fallback : Number(value);
    return {
      numerator: row.numerator === null || row.numerator === undefined ? null : Number(row.numerator),
      denominator: number(row.denominator, 1),
    };
  }
}
