import type { DuckDBConnection } from '@duckdb/node-api';
import { TELEMETRY_DIMENSIONS } from '../../core/ingest/records.ts';

const DIMENSIONS = TELEMETRY_DIMENSIONS;
const COLUMN_NAME = /^[a-z][a-z0-9_]*$/;

/** The writer's staging table for telemetry batches (see `createStaging`). */
export const STAGING = 'telemetry_staging';
/** The writer's staging table for inference rows, in `INFERENCE_COLUMNS` order. */
export const INFERENCE_STAGING = 'inferences_staging';
export const INFERENCE_COLUMNS = [
  'use_case',
  'device_id',
  'time',
  'status',
  'score',
  'threshold',
  'anomalous',
  'contributors',
  'model_version',
  'latency_ms',
  'skip_reason',
  'device_state',
  'baseline_version',
] as const;

/** A quarantined message's columns: the `quarantine` table's, and the resolved copies' after a replay. */
export const QUARANTINE_COLUMNS = `
  id VARCHAR PRIMARY KEY,
  stage VARCHAR NOT NULL,
  use_case VARCHAR NOT NULL,
  device_id VARCHAR NOT NULL,
  topic VARCHAR NOT NULL,
  client_id VARCHAR NOT NULL,
  received_at TIMESTAMP NOT NULL,
  quarantined_at TIMESTAMP NOT NULL,
  reasons JSON NOT NULL,
  payload VARCHAR,
  payload_base64 VARCHAR`;

const TABLES = `
  CREATE TABLE IF NOT EXISTS telemetry (
    ${DIMENSIONS.map((d) => `${d} VARCHAR NOT NULL`).join(', ')},
    measure_name VARCHAR NOT NULL,
    time TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (${DIMENSIONS.join(', ')}, time)
  );
  CREATE TABLE IF NOT EXISTS quarantine (${QUARANTINE_COLUMNS});
  CREATE TABLE IF NOT EXISTS refusals (
    refused_at TIMESTAMP NOT NULL,
    client_id VARCHAR NOT NULL,
    thing VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    topic VARCHAR,
    reason VARCHAR NOT NULL
  );
  CREATE TABLE IF NOT EXISTS inferences (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    time TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    score DOUBLE,
    threshold DOUBLE,
    anomalous BOOLEAN,
    contributors JSON NOT NULL,
    model_version VARCHAR,
    latency_ms DOUBLE,
    skip_reason VARCHAR,
    device_state VARCHAR,
    baseline_version INTEGER,
    PRIMARY KEY (use_case, device_id, time)
  );
  CREATE TABLE IF NOT EXISTS device_health (
    use_case VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    connected BOOLEAN,
    queue_depth BIGINT,
    oldest_age_s DOUBLE,
    sent BIGINT,
    rejected BIGINT,
    dropped BIGINT,
    report JSON NOT NULL
  );
  CREATE TABLE IF NOT EXISTS dead_letter (
    id VARCHAR PRIMARY KEY,
    body VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    last_error VARCHAR NOT NULL,
    dead_at TIMESTAMP NOT NULL DEFAULT now()
  );`;

/** Creates the store's tables, or brings those of an older store up to date. */
export async function createSchema(
  connection: DuckDBConnection,
  measureColumns: readonly string[],
): Promise<void> {
  for (const column of measureColumns) {
    if (!COLUMN_NAME.test(column)) throw new Error(`invalid measure column name "${column}"`);
  }
  await connection.run(TABLES);
  // Flexible schema, as in Timestream: a new contract's measures become new nullable columns.
  for (const column of measureColumns) {
    await connection.run(`ALTER TABLE telemetry ADD COLUMN IF NOT EXISTS ${column} DOUBLE`);
  }
  await connection.run(`ALTER TABLE telemetry ADD COLUMN IF NOT EXISTS origin VARCHAR DEFAULT 'device'`);
  await migrateQuarantine(connection);
  // Stores made before device baselines.
  await connection.run(`ALTER TABLE inferences ADD COLUMN IF NOT EXISTS device_state VARCHAR`);
  await connection.run(`ALTER TABLE inferences ADD COLUMN IF NOT EXISTS baseline_version INTEGER`);
}

/** Stores made before the quarantine's device column was named like telemetry's, and kept each payload twice. */
async function migrateQuarantine(connection: DuckDBConnection): Promise<void> {
  const columns = await connection.runAndReadAll(
    `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'quarantine'`,
  );
  const byName = new Map(
    columns.getRowObjectsJson().map((row) => [row.column_name as string, row.is_nullable as string]),
  );
  if (byName.has('thing')) await connection.run('ALTER TABLE quarantine RENAME COLUMN thing TO device_id');
  if (byName.get('payload_base64') === 'NO')
    await connection.run('ALTER TABLE quarantine ALTER COLUMN payload_base64 DROP NOT NULL');
}

/** The telemetry table's measure columns, in table order: every contract's, retired ones included. */
export async function tableMeasureColumns(connection: DuckDBConnection): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT column_name FROM duckdb_columns() WHERE table_name = 'telemetry' AND data_type = 'DOUBLE' ORDER BY column_index`,
  );
  return reader.getRowObjects().map((row) => String(row.column_name));
}

/**
 * A table of the writer's own, without a key, that the appender fills (millions of rows a second
 * from Node) before one INSERT ... SELECT merges a batch into `telemetry` through its primary key.
 * Temporary: it lives in memory and is gone with the connection.
 */
export async function createStaging(connection: DuckDBConnection, columns: readonly string[]): Promise<void> {
  await connection.run(
    `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} AS SELECT ${columns.join(', ')} FROM telemetry LIMIT 0`,
  );
  // Contributors arrive as JSON text: the merge casts them.
  await connection.run(
    `CREATE TEMP TABLE IF NOT EXISTS ${INFERENCE_STAGING} AS SELECT ${INFERENCE_COLUMNS.map((c) =>
      c === 'contributors' ? 'contributors::VARCHAR AS contributors' : c,
    ).join(', ')} FROM inferences LIMIT 0`,
  );
}
