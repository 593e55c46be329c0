import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { z } from 'zod';
import type { TelemetryReader } from '../../core/baseline/ports.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { DriftReads } from '../../core/drift/ports.ts';
import type { InferenceStore } from '../../core/inference/inference-records.ts';
import type { TelemetryStore } from '../../core/ingest/ports.ts';
import type { AlertStore } from '../../core/alerts/ports.ts';
import type { KpiReads } from '../../core/kpi/kpi.ts';
import { InfluxKpiReads, TimestreamKpiReads } from '../adapters/cloud-kpi-reads.ts';
import type { OperatorReads } from '../../core/operators/ports.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { DynamoDbDeviceReports } from '../adapters/dynamodb-device-reports.ts';
import { InfluxHttp } from '../adapters/influx-http.ts';
import { InfluxInferenceStore } from '../adapters/influx-inference-store.ts';
import { InfluxMvSeries } from '../adapters/influx-mv-series.ts';
import { InfluxDriftReads, InfluxOperatorReads, InfluxTelemetryReader } from '../adapters/influx-reads.ts';
import { InfluxTelemetryStore } from '../adapters/influx-telemetry-store.ts';
import { TimestreamDriftReads } from '../adapters/timestream-drift-reads.ts';
import { TimestreamInferenceStore } from '../adapters/timestream-inference-store.ts';
import { TimestreamOperatorReads, type UseCaseTables } from '../adapters/timestream-operator-reads.ts';
import { TimestreamTelemetryReader } from '../adapters/timestream-telemetry-reader.ts';
import { TimestreamTelemetryStore } from '../adapters/timestream-telemetry-store.ts';
import { requireEnv } from './env.ts';

/**
 * Which store holds the readings (TELEMETRY_STORE, set by the constructs): Timestream for
 * LiveAnalytics, or Timestream for InfluxDB for accounts LiveAnalytics no longer takes.
 */
export const TELEMETRY_STORES = ['influxdb', 'liveanalytics'] as const;
export type TelemetryStoreKind = (typeof TELEMETRY_STORES)[number];

export function telemetryStoreKind(env: NodeJS.ProcessEnv): TelemetryStoreKind {
  const kind = requireEnv('TELEMETRY_STORE', env);
  if (!(TELEMETRY_STORES as readonly string[]).includes(kind))
    throw new Error(`TELEMETRY_STORE must be one of ${TELEMETRY_STORES.join(', ')}, got "${kind}"`);
  return kind as TelemetryStoreKind;
}

const tablesSchema = z.record(
  z.string(),
  z.strictObject({ databaseName: z.string(), tableName: z.string(), inferencesTableName: z.string() }),
);
const tokenSecretSchema = z.object({ token: z.string().min(1) });
/** How long a fetched token is used before Secrets Manager is asked again: a rotation lands within it. */
const TOKEN_MAX_AGE_SECONDS = 300;

/** Each use case's Timestream tables (TELEMETRY_TABLES, a JSON object by use case id). */
export function telemetryTablesFromEnv(env: NodeJS.ProcessEnv): Map<string, UseCaseTables> {
  return new Map(Object.entries(tablesSchema.parse(JSON.parse(requireEnv('TELEMETRY_TABLES', env)))));
}

/** Each use case's InfluxDB bucket (INFLUX_BUCKETS, a JSON object by use case id). */
function influxBucketsFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  return new Map(
    Object.entries(z.record(z.string(), z.string()).parse(JSON.parse(requireEnv('INFLUX_BUCKETS', env)))),
  );
}

/**
 * A client of one bucket: INFLUX_URL, and the token kept as `{"token": …}` in the secret that
 * INFLUX_TOKEN_SECRET names, fetched when first needed and cached for five minutes.
 */
export function influxFromEnv(env: NodeJS.ProcessEnv, bucket: string): InfluxHttp {
  const url = requireEnv('INFLUX_URL', env);
  const secret = requireEnv('INFLUX_TOKEN_SECRET', env);
  return new InfluxHttp({
    url,
    database: bucket,
    token: async () => {
      const value = await getSecret(secret, { transform: 'json', maxAge: TOKEN_MAX_AGE_SECONDS });
      const parsed = tokenSecretSchema.safeParse(value);
      if (!parsed.success) throw new Error(`secret ${secret} holds no {"token": …} object`);
      return parsed.data.token;
    },
  });
}

/** The ingest function's store of its use case's readings. */
export function telemetryStoreFromEnv(env: NodeJS.ProcessEnv): TelemetryStore {
  if (telemetryStoreKind(env) === 'influxdb')
    return new InfluxTelemetryStore(influxFromEnv(env, requireEnv('INFLUX_BUCKET', env)));
  return new TimestreamTelemetryStore(new TimestreamWriteClient({}), {
    databaseName: requireEnv('TIMESTREAM_DATABASE', env),
    tableName: requireEnv('TIMESTREAM_TABLE', env),
  });
}

/** Where the ingest function writes its use case's scores, and reads a device's readings back. */
export function scoringStoresFromEnv(
  env: NodeJS.ProcessEnv,
  contract: DataContract,
): { inferences: InferenceStore; telemetry: TelemetryReader } {
  if (telemetryStoreKind(env) === 'influxdb') {
    const influx = influxFromEnv(env, requireEnv('INFLUX_BUCKET', env));
    return {
      inferences: new InfluxInferenceStore(influx),
      telemetry: new InfluxTelemetryReader(influx, contract),
    };
  }
  const databaseName = requireEnv('TIMESTREAM_DATABASE', env);
  return {
    inferences: new TimestreamInferenceStore(new TimestreamWriteClient({}), {
      databaseName,
      tableName: requireEnv('TIMESTREAM_INFERENCES_TABLE', env),
    }),
    telemetry: new TimestreamTelemetryReader(
      new TimestreamQueryClient({}),
      { databaseName, tableName: requireEnv('TIMESTREAM_TABLE', env) },
      contract,
    ),
  };
}

/** The drift checks' reads of each use case. */
export function driftReadsFromEnv(
  env: NodeJS.ProcessEnv,
  contracts: ContractRegistry,
  reports: DynamoDbDeviceReports,
): (manifest: UseCaseManifest) => DriftReads {
  if (telemetryStoreKind(env) === 'influxdb') {
    const buckets = influxBucketsFromEnv(env);
    return (manifest) => {
      const influx = influxFromEnv(env, lookup(buckets, manifest.id, 'InfluxDB bucket'));
      return new InfluxDriftReads(
        influx,
        new InfluxTelemetryReader(influx, contracts.get(manifest.contract)),
        reports,
      );
    };
  }
  const tables = telemetryTablesFromEnv(env);
  const timestream = new TimestreamQueryClient({});
  return (manifest) => {
    const target = lookup(tables, manifest.id, 'Timestream tables');
    const reader = new TimestreamTelemetryReader(timestream, target, contracts.get(manifest.contract));
    return new TimestreamDriftReads(timestream, reader, reports, target);
  };
}

/** The KPI computations' reads of each use case: its store, and the alert table for alerts. */
export function kpiReadsFromEnv(
  env: NodeJS.ProcessEnv,
  contracts: ContractRegistry,
  alerts: Pick<AlertStore, 'listAlerts'>,
): (manifest: UseCaseManifest) => KpiReads {
  if (telemetryStoreKind(env) === 'influxdb') {
    const buckets = influxBucketsFromEnv(env);
    return (manifest) =>
      new InfluxKpiReads(
        influxFromEnv(env, lookup(buckets, manifest.id, 'InfluxDB bucket')),
        contracts.get(manifest.contract),
        alerts,
      );
  }
  const tables = telemetryTablesFromEnv(env);
  const timestream = new TimestreamQueryClient({});
  return (manifest) =>
    new TimestreamKpiReads(
      timestream,
      lookup(tables, manifest.id, 'Timestream tables'),
      contracts.get(manifest.contract),
      alerts,
    );
}

/** The console's reads of every use case. */
export function operatorReadsFromEnv(env: NodeJS.ProcessEnv, reports: DynamoDbDeviceReports): OperatorReads {
  if (telemetryStoreKind(env) === 'influxdb') {
    const buckets = new Map(
      [...influxBucketsFromEnv(env)].map(([useCase, bucket]) => [useCase, influxFromEnv(env, bucket)]),
    );
    return new InfluxOperatorReads(buckets, reports);
  }
  return new TimestreamOperatorReads(new TimestreamQueryClient({}), reports, telemetryTablesFromEnv(env));
}

function lookup<T>(map: ReadonlyMap<string, T>, useCase: string, what: string): T {
  const value = map.get(useCase);
  if (value === undefined) throw new Error(`no ${what} for use case "${useCase}"`);
  return value;
}

/**
 * Where the KPI function writes each use case's M&V series for the dashboards: its InfluxDB
 * bucket, with the token INFLUX_SERIES_TOKEN_SECRET names. Undefined where the store keeps no
 * such series (LiveAnalytics: the kpis table holds the M&V).
 */
export function mvSeriesFromEnv(env: NodeJS.ProcessEnv): ((useCase: string) => InfluxMvSeries) | undefined {
  const secret = env.INFLUX_SERIES_TOKEN_SECRET;
  if (secret === undefined) return undefined;
  const buckets = influxBucketsFromEnv(env);
  return (useCase) => {
    const bucket = buckets.get(useCase);
    if (bucket === undefined)
      throw new Error(
        `no InfluxDB bucket for use case "${useCase}" in INFLUX_BUCKETS (${[...buckets.keys()].join(', ')})`,
      );
    return new InfluxMvSeries(influxFromEnv({ ...env, INFLUX_TOKEN_SECRET: secret }, bucket));
  };
}
