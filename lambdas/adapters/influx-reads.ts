import type { TelemetryReader } from '../../core/baseline/ports.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import type { HealthSample } from '../../core/drift/checks.ts';
import type { DriftReads, Finding, InferenceSample } from '../../core/drift/ports.ts';
import { TELEMETRY_MEASURE_NAME, type TelemetryRecord } from '../../core/ingest/records.ts';
import type { DeviceActivity, OperatorReads, Series, SeriesRequest } from '../../core/operators/ports.ts';
import { deviceActivities, seriesFromBuckets } from '../../core/operators/views.ts';
import { numberOrNull } from '../../core/stores/cell-values.ts';
import type { DynamoDbDeviceReports } from './dynamodb-device-reports.ts';
import { checkInfluxName, influxQuote, influxTime, type InfluxHttp, type InfluxRow } from './influx-http.ts';
import { INFLUX_INFERENCE_MEASUREMENT } from './influx-inference-store.ts';
import { recordFromRow } from './influx-telemetry-store.ts';

/** How far back "last seen" looks: a day, not the whole history. */
const ACTIVITY_WINDOW = '24h';

const range = (from: number, to?: number) =>
  `time >= ${influxTime(from)}` + (to === undefined ? '' : ` AND time <= ${influxTime(to)}`);

/**
 * A device's stored readings, in time order, from its use case's bucket: what a baseline
 * calibrates on. Values are quoted and names checked, so no reading can shape a query.
 */
export class InfluxTelemetryReader implements TelemetryReader {
  private readonly columns: ReadonlySet<string>;

  constructor(
    private readonly influx: InfluxHttp,
    contract: DataContract,
  ) {
    this.columns = new Set(Object.values(contract.measures).map((m) => checkInfluxName(m.column, 'column')));
  }

  async readings(
    useCase: string,
    deviceId: string,
    window: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    const [rows = []] = await this.influx.query([
      `SELECT * FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
        `AND device_id = ${influxQuote(deviceId)} AND ${range(window.from, window.to)} ` +
        `ORDER BY time ASC LIMIT ${Math.max(1, Math.floor(limit))}`,
    ]);
    return rows.map((row) => recordFromRow(row, this.columns));
  }
}

/** The drift checks' reads: readings and inferences from InfluxDB, health reports from the alert table. */
export class InfluxDriftReads implements DriftReads {
  constructor(
    private readonly influx: InfluxHttp,
    private readonly telemetry: InfluxTelemetryReader,
    private readonly reports: DynamoDbDeviceReports,
  ) {}

  readings(
    useCase: string,
    deviceId: string,
    window: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    return this.telemetry.readings(useCase, deviceId, window, limit);
  }

  async devices(useCase: string, window: { from: number; to: number }): Promise<string[]> {
    const [rows = []] = await this.influx.query([
      `SELECT last(seq) FROM ${TELEMETRY_MEASURE_NAME} WHERE use_case = ${influxQuote(useCase)} ` +
        `AND ${range(window.from, window.to)} GROUP BY device_id`,
    ]);
    return rows.flatMap((row) => (typeof row.device_id === 'string' ? [row.device_id] : [])).sort();
  }

  async inferences(
    useCase: string,
    deviceId: string,
    window: { from: number; to: number },
  ): Promise<InferenceSample[]> {
    const [rows = []] = await this.influx.query([
      `SELECT status, anomalous, latency_ms, device_state FROM ${INFLUX_INFERENCE_MEASUREMENT} ` +
        `WHERE use_case = ${influxQuote(useCase)} AND device_id = ${influxQuote(deviceId)} ` +
        `AND ${range(window.from, window.to)}`,
    ]);
    return rows.map((row) => ({
      time: Number(row.time),
      status: row.status === 'scored' ? 'scored' : 'skipped',
      anomalous: typeof row.anomalous === 'boolean' ? row.anomalous : null,
      latencyMs: numberOrNull(row.latency_ms),
      monitoring: row.device_state === 'monitoring',
    }));
  }

  healthReports(
    useCase: string,
    deviceId: string,
    window: { from: number; to: number },
  ): Promise<HealthSample[]> {
    return this.reports.healthReports(useCase, deviceId, window);
  }
}

/**
 * The console's reads: readings and scores averaged into plot buckets by InfluxDB itself, when
 * each device was last heard from, and its last health report and findings from the alert table.
 */
export class InfluxOperatorReads implements OperatorReads {
  constructor(
    private readonly buckets: ReadonlyMap<string, InfluxHttp>,
    private readonly reports: DynamoDbDeviceReports,
  ) {}

  async activity(useCase?: string, deviceId?: string): Promise<DeviceActivity[]> {
    const useCases = useCase === undefined ? [...this.buckets.keys()] : [useCase];
    const perUseCase = await Promise.all(useCases.map((id) => this.useCaseActivity(id, deviceId)));
    return perUseCase.flat();
  }

  private async useCaseActivity(useCase: string, deviceId: string | undefined): Promise<DeviceActivity[]> {
    const device = deviceId === undefined ? '' : ` AND device_id = ${influxQuote(deviceId)}`;
    const where = `use_case = ${influxQuote(useCase)}${device} AND time > now() - ${ACTIVITY_WINDOW}`;
    const [[seen = [], models = []], health] = await Promise.all([
      this.bucket(useCase).query([
        `SELECT last(seq) FROM ${TELEMETRY_MEASURE_NAME} WHERE ${where} GROUP BY device_id`,
        `SELECT last(model_version) AS model_version FROM ${INFLUX_INFERENCE_MEASUREMENT} WHERE ${where} GROUP BY device_id`,
      ]),
      this.reports.healthSnapshots(useCase, deviceId),
    ]);
    const idOf = (row: InfluxRow) => (typeof row.device_id === 'string' ? row.device_id : '');
    return deviceActivities(
      useCase,
      new Map(seen.map((row) => [idOf(row), numberOrNull(row.time)])),
      new Map(
        models.map((row) => [idOf(row), typeof row.model_version === 'string' ? row.model_version : null]),
      ),
      health,
    );
  }

  async series(request: SeriesRequest): Promise<Series> {
    const influx = this.bucket(request.useCase);
    const averages = request.sensors
      .map(({ column }) => `mean(${checkInfluxName(column, 'column')}) AS ${column}`)
      .join(', ');
    const where =
      `use_case = ${influxQuote(request.useCase)} AND device_id = ${influxQuote(request.deviceId)} ` +
      `AND time >= ${influxTime(request.from)} AND time < ${influxTime(Math.ceil(request.to))}`;
    const bucket = `GROUP BY time(${Math.max(1, Math.floor(request.bucketMs))}ms) fill(none)`;
    const [readings = [], scores = []] = await influx.query([
      `SELECT ${averages || 'count(seq) AS n'} FROM ${TELEMETRY_MEASURE_NAME} WHERE ${where} ${bucket}`,
      `SELECT max(score) AS score, max(threshold) AS threshold FROM ${INFLUX_INFERENCE_MEASUREMENT} WHERE ${where} ${bucket}`,
    ]);
    const asBuckets = (rows: typeof readings) => rows.map((row) => ({ ...row, t: row.time }));
    return seriesFromBuckets(request.sensors, asBuckets(readings), asBuckets(scores));
  }

  findings(useCase: string, deviceId: string, since: number): Promise<Finding[]> {
    return this.reports.findings(useCase, deviceId, since);
  }

  private bucket(useCase: string): InfluxHttp {
    const influx = this.buckets.get(useCase);
    if (!influx) throw new Error(`no InfluxDB bucket for use case "${useCase}"`);
    return influx;
  }
}
