import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  DuckDBInstance,
  DuckDBTimestampValue,
  DuckDBTypeId,
  StatementType,
  type DuckDBConnection,
  type DuckDBResultReader,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { HealthReport } from '../../core/edge/health-report.ts';
import type {
  QuarantineEntry,
  QuarantineOutcome,
  QuarantineSink,
  TelemetryStore,
  WriteOutcome,
} from '../../core/ingest/ports.ts';
import type { TelemetryReader } from '../../core/baseline/ports.ts';
import type { InferenceRecord, InferenceStore } from '../../core/inference/inference-records.ts';
import {
  dimensionsFrom,
  originFrom,
  TELEMETRY_DIMENSIONS,
  TELEMETRY_MEASURE_NAME,
  type TelemetryRecord,
} from '../../core/ingest/records.ts';

/** The writer's staging table for telemetry batches (see `createStaging`). */
const STAGING = 'telemetry_staging';
const DIMENSIONS = TELEMETRY_DIMENSIONS;
const COLUMN_NAME = /^[a-z][a-z0-9_]*$/;

export type Row = Record<string, unknown>;

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

export interface QueryResult {
  readonly columns: string[];
  readonly rows: Row[];
  /** True when the result had more rows than the limit and was cut there. */
  readonly truncated?: boolean;
}

export interface QueryLimits {
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** @default 10000 */
  readonly maxRows?: number;
}

/** A query the store refuses to run (a write, several statements, a syntax error) or stopped. */
export class QueryRefusedError extends Error {
  override readonly name = 'QueryRefusedError';
}

/** A refusal by the broker: who tried what, and why it was refused. */
export interface RefusalRow {
  readonly at: number;
  readonly clientId: string;
  readonly thing: string;
  readonly action: string;
  readonly topic?: string;
  readonly reason: string;
}

// Statements a reader may run: queries, and plans of queries.
const READ_STATEMENTS = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

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
export class DuckDbStore implements TelemetryStore, QuarantineSink, InferenceStore, TelemetryReader {
  private queue: Promise<unknown> = Promise.resolve();
  private readerQueue: Promise<unknown> = Promise.resolve();
  private pendingPuts: {
    entry: QuarantineEntry;
    resolve: (outcome: QuarantineOutcome) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** The telemetry table's measure columns: every contract's, including those of contracts since retired. */
  private measureColumns: string[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Queries run here, never on the ingest connection: a slow one does not hold up writes. */
    private readonly reader: DuckDBConnection,
    readonly file: string,
    private readonly readOnly: boolean,
  ) {}

  /**
   * Opens (and for a writer, creates or migrates) the store. `measureColumns` are the deployment's
   * contracts' columns (`ContractRegistry.measureColumns()`); the table gains any it lacks, as
   * Timestream's flexible schema would. A reader reads whatever columns the table has.
   */
  static async open(
    file: string,
    options: { readOnly?: boolean; measureColumns?: readonly string[] } = {},
  ): Promise<DuckDbStore> {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    // The store needs no file but its own: no COPY TO, read_text, ATTACH or extension downloads,
    // whatever SQL reaches it.
    const instance = await DuckDBInstance.create(file, {
      enable_external_access: 'false',
      ...(options.readOnly ? { access_mode: 'READ_ONLY' } : {}),
    });
    const connection = await instance.connect();
    const store = new DuckDbStore(
      instance,
      connection,
      await instance.connect(),
      file,
      options.readOnly ?? false,
    );
    if (!options.readOnly) await store.createSchema(options.measureColumns ?? []);
    store.measureColumns = await store.tableMeasureColumns();
    if (!options.readOnly) await store.createStaging();
    // No SET from here on: a query cannot turn file access back on.
    await connection.run('SET lock_configuration = true');
    return store;
  }

  /**
   * Runs `work` on the writer connection after every earlier call: how the other local tables
   * (baselines, alerts) share the store without interleaving statements.
   */
  withWriter<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.readOnly) return Promise.reject(new Error(`${this.file} is open read-only`));
    return this.exclusive(() => work(this.connection));
  }

  /** DuckDB connections are not safe for interleaved async use: every call runs after the previous one. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Columns of a telemetry write, in the order the staging table has them. */
  private get writeColumns(): string[] {
    return [...DIMENSIONS, 'measure_name', 'time', 'seq', 'origin', ...this.measureColumns];
  }

  /**
   * A table of the writer's own, without a key, that the appender fills (millions of rows a
   * second from Node) before one INSERT ... SELECT merges a batch into `telemetry` through its
   * primary key. Temporary: it lives in memory and is gone with the connection.
   */
  private async createStaging(): Promise<void> {
    await this.connection.run(
      `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} AS SELECT ${this.writeColumns.join(', ')} FROM telemetry LIMIT 0`,
    );
  }

  private async tableMeasureColumns(): Promise<string[]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT column_name FROM duckdb_columns() WHERE table_name = 'telemetry' AND data_type = 'DOUBLE' ORDER BY column_index`,
    );
    return reader.getRowObjects().map((row) => String(row.column_name));
  }

  private async createSchema(measureColumns: readonly string[]): Promise<void> {
    for (const column of measureColumns) {
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
      );`);
    // Flexible schema, as in Timestream: a new contract's measures become new nullable columns.
    for (const column of measureColumns) {
      await this.connection.run(`ALTER TABLE telemetry ADD COLUMN IF NOT EXISTS ${column} DOUBLE`);
    }
    await this.connection.run(
      `ALTER TABLE telemetry ADD COLUMN IF NOT EXISTS origin VARCHAR DEFAULT 'device'`,
    );
    await this.migrateQuarantine();
    // Stores made before device baselines.
    await this.connection.run(`ALTER TABLE inferences ADD COLUMN IF NOT EXISTS device_state VARCHAR`);
    await this.connection.run(`ALTER TABLE inferences ADD COLUMN IF NOT EXISTS baseline_version INTEGER`);
  }

  /** Stores made before the quarantine's device column was named like telemetry's, and kept each payload twice. */
  private async migrateQuarantine(): Promise<void> {
    const columns = await this.connection.runAndReadAll(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'quarantine'`,
    );
    const byName = new Map(
      columns.getRowObjectsJson().map((row) => [row.column_name as string, row.is_nullable as string]),
    );
    if (byName.has('thing'))
      await this.connection.run('ALTER TABLE quarantine RENAME COLUMN thing TO device_id');
    if (byName.get('payload_base64') === 'NO')
      await this.connection.run('ALTER TABLE quarantine ALTER COLUMN payload_base64 DROP NOT NULL');
  }

  write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.exclusive(async () => {
      const columns = this.writeColumns;
      const appender = await this.connection.createAppender(STAGING);
      try {
        for (const record of records) {
          for (const dimension of DIMENSIONS) appender.appendVarchar(record.dimensions[dimension]);
          appender.appendVarchar(TELEMETRY_MEASURE_NAME);
          appender.appendTimestamp(new DuckDBTimestampValue(BigInt(record.time) * 1000n));
          appender.appendBigInt(BigInt(record.seq));
          appender.appendVarchar(record.origin);
          for (const column of this.measureColumns) {
            const value = record.measures[column];
            if (value === undefined) appender.appendNull();
            else appender.appendDouble(value);
          }
          appender.endRow();
        }
      } finally {
        appender.closeSync();
      }
      let inserted;
      try {
        inserted = await this.connection.runAndReadAll(
          `INSERT INTO telemetry (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${STAGING}
           ON CONFLICT DO NOTHING RETURNING ${DIMENSIONS.join(', ')}, epoch_ms(time) AS time_ms`,
        );
      } finally {
        await this.connection.run(`DELETE FROM ${STAGING}`);
      }
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
      `SELECT seq, origin, ${this.measureColumns.join(', ')} FROM telemetry
       WHERE ${DIMENSIONS.map((d, i) => `${d} = $${i + 1}`).join(' AND ')} AND time = make_timestamp($${DIMENSIONS.length + 1}::BIGINT)`,
      [...DIMENSIONS.map((d) => record.dimensions[d]), BigInt(record.time) * 1000n],
    );
    const row = existing.getRowObjectsJS()[0];
    if (!row) return { status: 'retry', reason: 'insert conflicted but no existing row was found' };
    const same =
      Number(row.seq) === record.seq &&
      (row.origin ?? 'device') === record.origin &&
      this.measureColumns.every((column) => (row[column] ?? null) === (record.measures[column] ?? null));
    return same
      ? { status: 'duplicate' }
      : {
          status: 'rejected',
          reason: `a record for ${record.dimensions.device_id} at ${new Date(record.time).toISOString()} already exists with different values`,
        };
  }

  /**
   * Keeps the payload once: as text when it is UTF-8, else as base64 of the exact bytes. An entry
   * with the same id (a redelivery) is left as it is. The entries of one batch arrive in the same
   * tick and go into one INSERT: a flood of malformed messages is one statement per batch, not one
   * per message.
   */
  put(entry: QuarantineEntry): Promise<QuarantineOutcome> {
    return new Promise((resolve, reject) => {
      this.pendingPuts.push({ entry, resolve, reject });
      if (this.pendingPuts.length === 1) queueMicrotask(() => void this.flushPuts());
    });
  }

  private async flushPuts(): Promise<void> {
    const all = this.pendingPuts.splice(0);
    // One row per id, even if the same message was put twice in one tick.
    const firsts = new Map(all.map((put) => [put.entry.id, put] as const).reverse());
    const batch = [...firsts.values()];
    try {
      const kept = await this.exclusive(async () => {
        const params: DuckDBValue[] = [];
        const tuples = batch.map(({ entry }) => {
          let text: string | null = null;
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(
              Buffer.from(entry.payloadBase64, 'base64'),
            );
          } catch {
            // Not UTF-8: payload_base64 keeps the exact bytes.
          }
          const values: DuckDBValue[] = [
            entry.id,
            entry.stage,
            entry.useCase,
            entry.deviceId,
            entry.topic,
            entry.clientId,
            BigInt(entry.receivedAt) * 1000n,
            BigInt(entry.quarantinedAt) * 1000n,
            JSON.stringify(entry.reasons),
            text,
            text === null ? entry.payloadBase64 : null,
          ];
          const refs = values.map((value) => {
            params.push(value);
            return `$${params.length}`;
          });
          refs[6] = `make_timestamp(${refs[6] ?? ''}::BIGINT)`;
          refs[7] = `make_timestamp(${refs[7] ?? ''}::BIGINT)`;
          refs[8] = `${refs[8] ?? ''}::JSON`;
          return `(${refs.join(', ')})`;
        });
        const inserted = await this.connection.runAndReadAll(
          `INSERT INTO quarantine (id, stage, use_case, device_id, topic, client_id, received_at, quarantined_at, reasons, payload, payload_base64)
           VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING RETURNING id`,
          params,
        );
        return new Set(inserted.getRowObjectsJson().map((row) => row.id as string));
      });
      for (const put of all)
        put.resolve(firsts.get(put.entry.id) === put && kept.has(put.entry.id) ? 'kept' : 'already-kept');
    } catch (error) {
      for (const { reject } of all) reject(error);
    }
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
          r.deviceState,
          r.baselineVersion,
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
      await this.connection.run(
        `INSERT OR REPLACE INTO inferences (use_case, device_id, time, status, score, threshold, anomalous,
           contributors, model_version, latency_ms, skip_reason, device_state, baseline_version)
         VALUES ${tuples.join(', ')}`,
        params,
      );
    });
  }

  /**
   * A device's stored readings in time order: the calibration readings of its baseline (on the
   * writer connection, after the writes before it), or, on the reader connection, for analyses
   * such as the drift checks that must not hold ingestion up.
   */
  readings(
    useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
    on: 'writer' | 'reader' = 'writer',
  ): Promise<TelemetryRecord[]> {
    const read = async (connection: DuckDBConnection): Promise<TelemetryRecord[]> => {
      const result = await connection.runAndReadAll(
        `SELECT ${DIMENSIONS.join(', ')}, epoch_ms(time) AS time_ms, seq, origin, ${this.measureColumns.join(', ')}
         FROM telemetry
         WHERE use_case = $1 AND device_id = $2 AND time >= make_timestamp($3::BIGINT)
           AND time <= make_timestamp($4::BIGINT)
         ORDER BY time LIMIT $5`,
        [useCase, deviceId, BigInt(range.from) * 1000n, BigInt(range.to ?? 8_000_000_000_000) * 1000n, limit],
      );
      return result.getRowObjectsJson().map((row) => ({
        dimensions: dimensionsFrom((column) => text(row[column])),
        time: Number(row.time_ms),
        seq: Number(row.seq),
        origin: originFrom(row.origin),
        measures: Object.fromEntries(
          this.measureColumns
            .filter((column) => row[column] !== null && row[column] !== undefined)
            .map((column) => [column, Number(row[column])]),
        ),
      }));
    };
    return on === 'reader'
      ? this.onReader(() => read(this.reader))
      : this.exclusive(() => read(this.connection));
  }

  deadLetter(message: DeadLetter): Promise<void> {
    return this.exclusive(async () => {
      await this.connection.run(
        `INSERT OR REPLACE INTO dead_letter (id, body, attempts, last_error) VALUES ($1, $2, $3, $4)`,
        [message.id, message.body, message.attempts, message.lastError],
      );
    });
  }

  /**
   * Keeps a validated edge health report as it came (newer agents may add figures), with the
   * figures operators watch as columns.
   */
  recordHealth(useCase: string, receivedAt: number, report: HealthReport, raw: unknown): Promise<void> {
    return this.exclusive(async () => {
      await this.connection.run(
        `INSERT INTO device_health VALUES ($1, $2, make_timestamp($3::BIGINT), $4, $5, $6, $7, $8, $9, $10::JSON)`,
        [
          useCase,
          report.deviceId,
          BigInt(receivedAt) * 1000n,
          report.connected,
          report.queueDepth,
          report.oldestAgeSeconds,
          report.sent,
          report.rejected,
          report.dropped,
          JSON.stringify(raw),
        ],
      );
    });
  }

  /** Logs the broker's refusals, so "who was refused, and why" has an answer after the fact. */
  recordRefusals(refusals: readonly RefusalRow[]): Promise<void> {
    if (refusals.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const params: DuckDBValue[] = [];
      const tuples = refusals.map((r) => {
        const values: DuckDBValue[] = [
          BigInt(r.at) * 1000n,
          r.clientId,
          r.thing,
          r.action,
          r.topic ?? null,
          r.reason,
        ];
        const refs = values.map((value) => {
          params.push(value);
          return `$${params.length}`;
        });
        refs[0] = `make_timestamp(${refs[0] ?? ''}::BIGINT)`;
        return `(${refs.join(', ')})`;
      });
      await this.connection.run(`INSERT INTO refusals VALUES ${tuples.join(', ')}`, params);
    });
  }

  /**
   * Runs one read-only statement (SELECT or EXPLAIN) on the reader connection, at most `timeoutMs`
   * and `maxRows` rows. Anything else (a write, DDL, SET, ATTACH, a transaction, several
   * statements) is refused with QueryRefusedError before it runs.
   */
  query(sql: string, limits: QueryLimits = {}): Promise<QueryResult> {
    const timeoutMs = limits.timeoutMs ?? 30_000;
    const maxRows = limits.maxRows ?? 10_000;
    const work = async (): Promise<QueryResult> => {
      let statement;
      try {
        const extracted = await this.reader.extractStatements(sql);
        if (extracted.count !== 1)
          throw new QueryRefusedError(`one statement at a time, got ${extracted.count}`);
        statement = await extracted.prepare(0);
      } catch (error) {
        if (error instanceof QueryRefusedError) throw error;
        throw new QueryRefusedError(error instanceof Error ? error.message : String(error));
      }
      if (!READ_STATEMENTS.has(statement.statementType)) {
        throw new QueryRefusedError(
          `queries only read: ${StatementType[statement.statementType]} statements are refused (SELECT, EXPLAIN)`,
        );
      }
      const deadline = { passed: false };
      const timer = setTimeout(() => {
        deadline.passed = true;
        this.reader.interrupt();
      }, timeoutMs);
      try {
        const result = await statement.runAndReadUntil(maxRows + 1);
        const rows = jsonRows(result);
        return {
          columns: result.columnNames(),
          rows: rows.slice(0, maxRows),
          ...(rows.length > maxRows ? { truncated: true } : {}),
        };
      } catch (error) {
        if (deadline.passed)
          throw new QueryRefusedError(`query stopped after ${timeoutMs / 1000} s, its time limit`);
        throw new QueryRefusedError(error instanceof Error ? error.message : String(error));
      } finally {
        clearTimeout(timer);
      }
    };
    return this.onReader(work);
  }

  /** The reader connection, one call at a time, apart from the writer's queue. */
  private onReader<T>(work: () => Promise<T>): Promise<T> {
    const next = this.readerQueue.then(work, work);
    this.readerQueue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.readerQueue;
    await this.exclusive(async () => {
      if (this.file !== ':memory:' && !this.readOnly) await this.connection.run('CHECKPOINT');
      this.reader.closeSync();
      this.connection.closeSync();
      this.instance.closeSync();
    });
  }
}

// Integer and decimal types DuckDB's JSON conversion writes as strings (they may exceed 2^53).
const WIDE_NUMBERS = new Set([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);

/** Rows as JSON, with counts and sums as numbers where a number holds them exactly. */
function jsonRows(result: DuckDBResultReader): Row[] {
  const columns = result.columnNames();
  const wide = result.columnTypes().map((type) => WIDE_NUMBERS.has(type.typeId));
  return result.getRowObjectsJson().map((row) => {
    const out: Row = { ...row };
    columns.forEach((column, index) => {
      const value = row[column];
      if (!wide[index] || typeof value !== 'string') return;
      const number = Number(value);
      const exact = Number.isInteger(number) ? Number.isSafeInteger(number) : String(number) === value;
      if (exact) out[column] = number;
    });
    return out;
  });
}

/** A VARCHAR column's value; anything else means the table is not what this code made. */
export function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected text in the local store, got ${typeof value}`);
  return value;
}

function rowKey(row: Row): string {
  return JSON.stringify([...DIMENSIONS.map((d) => row[d]), String(row.time_ms)]);
}

function recordRowKey(record: TelemetryRecord): string {
  return JSON.stringify([...DIMENSIONS.map((d) => record.dimensions[d]), String(record.time)]);
}
