import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { allMeasureColumns } from '../core/contracts/registry.ts';
import type { QuarantineEntry, QuarantineSink, TelemetryStore, WriteOutcome } from '../core/ingest/ports.ts';
import type { InferenceRecord, InferenceStore } from '../core/inference/inference-records.ts';
import { TELEMETRY_MEASURE_NAME, type TelemetryRecord } from '../core/ingest/records.ts';

const DIMENSIONS = ['use_case', 'device_id', 'firmware', 'hardware_generation', 'contract'] as const;
const COLUMN_NAME = /^[a-z][a-z0-9_]*$/;

export type Row = Record<string, unknown>;

export interface QueryResult {
  readonly columns: string[];
  readonly rows: Row[];
}

/** A message the local queue gave up on after its last delivery: the local dead-letter queue. */
export interface DeadLetter {
  readonly id: string;
  readonly body: string;
  readonly attempts: number;
  readonly lastError: string;
}

/**
 * The embedded store: DuckDB tables shaped like the cloud ones. `telemetry` mirrors the Timestream
 * table (dimensions, measure_name, time, one column per measure) with the same identity
 * (dimensions + time); `quarantine` holds what S3 holds under quarantine/.
 */
export class DuckDbStore implements TelemetryStore, QuarantineSink, InferenceStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly measureColumns = allMeasureColumns().map((m) => m.column);

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly file: string,
    private readonly readOnly: boolean,
  ) {}

  static async open(file: string, options: { readOnly?: boolean } = {}): Promise<DuckDbStore> {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const instance = await DuckDBInstance.create(file, options.readOnly ? { access_mode: 'READ_ONLY' } : {});
    const store = new DuckDbStore(instance, await instance.connect(), file, options.readOnly ?? false);
    if (!options.readOnly) await store.createSchema();
    return store;
  }

  /** DuckDB connections are not safe for interleaved async use: every call runs after the previous one. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async createSchema(): Promise<void> {
    for (const column of this.measureColumns) {
      if (!COLUMN_NAME.test(column)) throw new Error(`invalid measure column name "${column}"`);
    }
    await this.connection.run(`
      CREATE TABLE IF NOT EXISTS telemetry (
        ${DIMENSIONS.map((d) => `${d} VARCHAR NOT NULL`).join(', ')},
        measure_name VARCHAR NOT NULL,
        time TIMESTAMP NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (${DIMENSIONS.join(', ')}, time)
      );
      CREATE TABLE IF NOT EXISTS quarantine (
        id VARCHAR PRIMARY KEY,
        stage VARCHAR NOT NULL,
        use_case VARCHAR NOT NULL,
        thing VARCHAR NOT NULL,
        topic VARCHAR NOT NULL,
        client_id VARCHAR NOT NULL,
        received_at TIMESTAMP NOT NULL,
        quarantined_at TIMESTAMP NOT NULL,
        reasons JSON NOT NULL,
        payload VARCHAR,
        payload_base64 VARCHAR NOT NULL
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
      );`);
    // Flexible schema, as in Timestream: a new contract's measures become new nullable columns.
    for (const column of this.measureColumns) {
      await this.connection.run(`ALTER TABLE telemetry ADD COLUMN IF NOT EXISTS ${column} DOUBLE`);
    }
  }

  write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.exclusive(async () => {
      const columns = [...DIMENSIONS, 'measure_name', 'time', 'seq', ...this.measureColumns];
      const params: DuckDBValue[] = [];
      const tuples = records.map((record) => {
        const values: DuckDBValue[] = [
          ...DIMENSIONS.map((d) => record.dimensions[d]),
          TELEMETRY_MEASURE_NAME,
          BigInt(record.time) * 1000n,
          BigInt(record.seq),
          ...this.measureColumns.map((column) => record.measures[column] ?? null),
        ];
        const placeholders = values.map((value, index) => {
          params.push(value);
          const ref = `$${params.length}`;
          // Column 7 is time, given as epoch microseconds.
          return index === DIMENSIONS.length + 1 ? `make_timestamp(${ref}::BIGINT)` : ref;
        });
        return `(${placeholders.join(', ')})`;
      });
      const inserted = await this.connection.runAndReadAll(
        `INSERT INTO telemetry (${columns.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT DO NOTHING RETURNING ${DIMENSIONS.join(', ')}, epoch_ms(time) AS time_ms`,
        params,
      );
      const insertedKeys = new Set(inserted.getRowObjectsJson().map((row) => rowKey(row)));
      const outcomes: WriteOutcome[] = [];
      for (const record of records) {
        if (insertedKeys.has(recordRowKey(record))) {
          outcomes.push({ status: 'stored' });
          continue;
        }
        outcomes.push(await this.compareWithExisting(record));
      }
      return outcomes;
    });
  }

  /** Same semantics as Timestream: an identical rewrite is accepted, a changed value is rejected. */
  private async compareWithExisting(record: TelemetryRecord): Promise<WriteOutcome> {
    const existing = await this.connection.runAndReadAll(
      `SELECT seq, ${this.measureColumns.join(', ')} FROM telemetry
       WHERE ${DIMENSIONS.map((d, i) => `${d} = $${i + 1}`).join(' AND ')} AND time = make_timestamp($${DIMENSIONS.length + 1}::BIGINT)`,
      [...DIMENSIONS.map((d) => record.dimensions[d]), BigInt(record.time) * 1000n],
    );
    const row = existing.getRowObjectsJS()[0];
    if (!row) return { status: 'retry', reason: 'insert conflicted but no existing row was found' };
    const same =
      Number(row.seq) === record.seq &&
      this.measureColumns.every((column) => (row[column] ?? null) === (record.measures[column] ?? null));
    return same
      ? { status: 'duplicate' }
      : {
          status: 'rejected',
          reason: `a record for ${record.dimensions.device_id} at ${new Date(record.time).toISOString()} already exists with different values`,
        };
  }

  put(entry: QuarantineEntry): Promise<void> {
    return this.exclusive(async () => {
      let text: string | null = null;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(entry.payloadBase64, 'base64'));
      } catch {
        // Not UTF-8: payload_base64 keeps the exact bytes.
      }
      await this.connection.run(
        `INSERT OR REPLACE INTO quarantine VALUES ($1, $2, $3, $4, $5, $6, make_timestamp($7::BIGINT), make_timestamp($8::BIGINT), $9::JSON, $10, $11)`,
        [
          entry.id,
          entry.stage,
          entry.useCase,
          entry.thing,
          entry.topic,
          entry.clientId,
          BigInt(entry.receivedAt) * 1000n,
          BigInt(entry.quarantinedAt) * 1000n,
          JSON.stringify(entry.reasons),
          text,
          entry.payloadBase64,
        ],
      );
    });
  }

  writeInferences(records: readonly InferenceRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const params: DuckDBValue[] = [];
      const tuples = records.map((r) => {
        const values: DuckDBValue[] = [
          r.useCase,
          r.deviceId,
          BigInt(r.time) * 1000n,
          r.status,
          r.score,
          r.threshold,
          r.anomalous,
          JSON.stringify(r.contributors),
          r.modelVersion,
          r.latencyMs,
          r.skipReason,
        ];
        const refs = values.map((value) => {
          params.push(value);
          return `$${params.length}`;
        });
        refs[2] = `make_timestamp(${refs[2] ?? ''}::BIGINT)`;
        refs[7] = `${refs[7] ?? ''}::JSON`;
        return `(${refs.join(', ')})`;
      });
      // A rescored reading (a redelivery) replaces its earlier row.
      await this.connection.run(`INSERT OR REPLACE INTO inferences VALUES ${tuples.join(', ')}`, params);
    });
  }

  deadLetter(message: DeadLetter): Promise<void> {
    return this.exclusive(async () => {
      await this.connection.run(
        `INSERT OR REPLACE INTO dead_letter (id, body, attempts, last_error) VALUES ($1, $2, $3, $4)`,
        [message.id, message.body, message.attempts, message.lastError],
      );
    });
  }

  /** Keeps an edge agent's health report as it came, with the figures operators watch as columns. */
  recordHealth(useCase: string, thing: string, receivedAt: number, payload: Buffer): Promise<void> {
    let report: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null) report = parsed as Record<string, unknown>;
    } catch {
      report = { unreadable: payload.toString('base64') };
    }
    const figure = (key: string) => (typeof report[key] === 'number' ? report[key] : null);
    return this.exclusive(async () => {
      await this.connection.run(
        `INSERT INTO device_health VALUES ($1, $2, make_timestamp($3::BIGINT), $4, $5, $6, $7, $8, $9, $10::JSON)`,
        [
          useCase,
          thing,
          BigInt(receivedAt) * 1000n,
          typeof report.connected === 'boolean' ? report.connected : null,
          figure('queueDepth'),
          figure('oldestAgeSeconds'),
          figure('sent'),
          figure('rejected'),
          figure('dropped'),
          JSON.stringify(report),
        ],
      );
    });
  }

  query(sql: string): Promise<QueryResult> {
    return this.exclusive(async () => {
      const reader = await this.connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() };
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (this.file !== ':memory:' && !this.readOnly) await this.connection.run('CHECKPOINT');
      this.connection.closeSync();
      this.instance.closeSync();
    });
  }
}

function rowKey(row: Row): string {
  return JSON.stringify([...DIMENSIONS.map((d) => row[d]), String(row.time_ms)]);
}

function recordRowKey(record: TelemetryRecord): string {
  return JSON.stringify([...DIMENSIONS.map((d) => record.dimensions[d]), String(record.time)]);
}
