import type { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { AlertStore } from '../../core/alerts/ports.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import { TELEMETRY_MEASURE_NAME } from '../../core/ingest/records.ts';
import { kpiColumns, kpiReadingFromRow, type KpiReading, type KpiReads } from '../../core/kpi/kpi.ts';
import { checkInfluxName, influxQuote, influxTime, type InfluxHttp } from './influx-http.ts';
import type { UseCaseTables } from './timestream-operator-reads.ts';
import { sqlQuote, TIMESTREAM_NAME, timestreamRows } from './timestream-rows.ts';

/** How far back an alert may have opened and still be open in the day computed. */
const LONGEST_ALERT_MS = 30 * 86_400_000;

/** The alerts part, from the alert table: those still open at some time of [from, to). */
async function alertsOverlapping(
  alerts: Pick<AlertStore, 'listAlerts'>,
  useCase: string,
  from: number,
  to: number,
) {
  const listed = await alerts.listAlerts({ useCase, since: from - LONGEST_ALERT_MS });
  return listed.filter(
    (alert: Alert) => alert.openedAt < to && (alert.clearedAt === null || alert.clearedAt >= from),
  );
}

const refuseSql = (): Promise<never> =>
  Promise.reject(
    new Error(
      "a KPI in SQL is written for the local store; the cloud computes the manifest's built-ins only",
    ),
  );

/** KPI reads over a use case's InfluxDB bucket: minute means grouped by InfluxDB itself. */
export class InfluxKpiReads implements KpiReads {
  constructor(
    private readonly influx: InfluxHttp,
    private readonly contract: DataContract,
    private readonly alertStore: Pick<AlertStore, 'listAlerts'>,
  ) {}

  async readings(
    useCase: string,
    fields: readonly string[],
    from: number,
    to: number,
  ): Promise<KpiReading[]> {
    const columns = kpiColumns(this.contract, fields).map((column) => checkInfluxName(column, 'column'));
    const means = columns.map((column, index) => `mean(${column}) AS v${index}`).join(', ');
    const [rows = []] = await this.influx.query([
      `SELECT ${means || 'count(seq) AS n'} FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
        `AND time >= ${influxTime(from)} AND time < ${influxTime(to)} GROUP BY time(1m), device_id fill(none)`,
    ]);
    return rows
      .map((row) => kpiReadingFromRow(String(row.device_id), Number(row.time), fields, row))
      .sort((a, b) => a.time - b.time);
  }

  async devices(useCase: string, from: number, to: number): Promise<number> {
    const [rows = []] = await this.influx.query([
      `SELECT last(seq) FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
        `AND time >= ${influxTime(from)} AND time < ${influxTime(to)} GROUP BY device_id`,
    ]);
    return new Set(rows.map((row) => row.device_id)).size;
  }

  async firstReading(useCase: string, from: number, to: number): Promise<number | null> {
    // Without GROUP BY time, first() answers the point's own time.
    const [rows = []] = await this.influx.query([
      `SELECT first(seq) FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
        `AND time >= ${influxTime(from)} AND time < ${influxTime(to)}`,
    ]);
    const time = rows[0]?.time;
    return time === undefined || time === null ? null : Number(time);
  }

  alerts(useCase: string, from: number, to: number): Promise<Alert[]> {
    return alertsOverlapping(this.alertStore, useCase, from, to);
  }

  sql = refuseSql;
}

/** KPI reads over a use case's Timestream for LiveAnalytics table: minute bins by Timestream. */
export class TimestreamKpiReads implements KpiReads {
  constructor(
    private readonly timestream: TimestreamQueryClient,
    private readonly tables: Pick<UseCaseTables, 'databaseName' | 'tableName'>,
    private readonly contract: DataContract,
    private readonly alertStore: Pick<AlertStore, 'listAlerts'>,
  ) {
    for (const name of [tables.databaseName, tables.tableName])
      if (!TIMESTREAM_NAME.test(name))
        throw new Error(`"${name}" is not a Timestream name these reads accept`);
  }

  private get source(): string {
    return `"${this.tables.databaseName}"."${this.tables.tableName}"`;
  }

  private where(useCase: string, from: number, to: number): string {
    return (
      `measure_name = ${sqlQuote(TELEMETRY_MEASURE_NAME)} AND use_case = ${sqlQuote(useCase)} ` +
      `AND time >= from_milliseconds(${Math.floor(from)}) AND time < from_milliseconds(${Math.floor(to)})`
    );
  }

  async readings(
    useCase: string,
    fields: readonly string[],
    from: number,
    to: number,
  ): Promise<KpiReading[]> {
    const columns = kpiColumns(this.contract, fields).map((column) => {
      if (!/^[a-z][a-z0-9_]*$/.test(column))
        throw new Error(`"${column}" is not a column these reads accept`);
      return column;
    });
    const rows = await timestreamRows(
      this.timestream,
      `SELECT device_id, to_milliseconds(bin(time, 1m)) AS t${columns.map((column, index) => `, avg(${column}) AS v${index}`).join('')} ` +
        `FROM ${this.source} WHERE ${this.where(useCase, from, to)} GROUP BY device_id, bin(time, 1m) ORDER BY t`,
    );
    return rows.map((row) => kpiReadingFromRow(row.device_id ?? '', Number(row.t), fields, row));
  }

  async devices(useCase: string, from: number, to: number): Promise<number> {
    const [row] = await timestreamRows(
      this.timestream,
      `SELECT count(DISTINCT device_id) AS n FROM ${this.source} WHERE ${this.where(useCase, from, to)}`,
    );
    return Number(row?.n ?? 0);
  }

  async firstReading(useCase: string, from: number, to: number): Promise<number | null> {
    const [row] = await timestreamRows(
      this.timestream,
      `SELECT to_milliseconds(min(time)) AS t FROM ${this.source} WHERE ${this.where(useCase, from, to)}`,
    );
    const first = row?.t;
    return first === undefined || first === null || first === '' ? null : Number(first);
  }

  alerts(useCase: string, from: number, to: number): Promise<Alert[]> {
    return alertsOverlapping(this.alertStore, useCase, from, to);
  }

  sql = refuseSql;
}
