import type { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
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
import { TELEMETRY_DIMENSIONS, type TelemetryRecord } from '../../core/ingest/records.ts';
import { openDatabase } from './duckdb-open.ts';
import { QuarantineBatch } from './quarantine-batch.ts';
import { readOnlyQuery, type QueryLimits, type QueryResult, type Row } from './read-only-query.ts';
import { appendInference, INSERT_INFERENCES, MERGE_INFERENCES } from './inference-staging.ts';
import { appendTelemetry, recordsFromColumns } from './telemetry-rows.ts';
import { createSchema, createStaging, INFERENCE_STAGING, STAGING, tableMeasureColumns } from './schema.ts';
import { asJson, asTimestamp, valuesList } from './sql.ts';

const DIMENSIONS = TELEMETRY_DIMENSIONS;
const micros = (ms: number): bigint => BigInt(ms) * 1000n;

/** A refusal by the broker: who tried what, and why it was refused. */
export interface RefusalRow {
  readonly at: number;
  readonly clientId: string;
  readonly thing: string;
  readonly action: string;
  readonly topic?: string;
  readonly reason: string;
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
export class DuckDbStore implements TelemetryStore, QuarantineSink, InferenceStore, TelemetryReader {
  private queue: Promise<unknown> = Promise.resolve();
  private readerQueue: Promise<unknown> = Promise.resolve();
  private readonly quarantineBatch = new QuarantineBatch((entries) =>
    this.exclusive(() => this.insertQuarantined(entries)),
  );
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
    options: { readOnly?: boolean; measureColumns?: readonly string[]; checkpointThreshold?: string } = {},
  ): Promise<DuckDbStore> {
    const { instance, writer: connection, reader } = await openDatabase(file, options);
    const store = new DuckDbStore(instance, connection, reader, file, options.readOnly ?? false);
    if (!options.readOnly) await createSchema(connection, options.measureColumns ?? []);
    store.measureColumns = await tableMeasureColumns(connection);
    if (!options.readOnly) await createStaging(connection, store.writeColumns);
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

  write(records: readonly TelemetryRecord[]): Promise<WriteOutcome[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.exclusive(async () => {
      const columns = this.writeColumns.join(', ');
      const insert = `INSERT INTO telemetry (${columns}) SELECT ${columns} FROM ${STAGING}`;
      const inserted = await this.throughStaging(
        STAGING,
        (appender) => {
          for (const record of records) appendTelemetry(appender, record, this.measureColumns);
        },
        async () => {
          // Nearly every batch is all new readings, and a plain insert costs a fraction of one that
          // looks for a conflict row by row, the more so as the table grows (`npm run bench:local`
          // with scoring on: docs/benchmarks.md). A reading already stored fails the whole insert,
          // which then leaves nothing behind; the merge tells the new from the repeated.
          try {
            await this.connection.run(insert);
            return undefined;
          } catch {
            // A repeat (a redelivery, or twice in this batch).
          }
          return this.connection.runAndReadAll(
            `${insert} ON CONFLICT DO NOTHING RETURNING ${DIMENSIONS.join(', ')}, epoch_ms(time) AS time_ms`,
          );
        },
      );
      if (!inserted) return records.map((): WriteOutcome => ({ status: 'stored' }));
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

  /**
   * Fills a staging table through the appender (far faster from Node than parameters), runs `move`
   * on it and empties it again, whatever `move` did. On the writer connection, inside `exclusive`.
   */
  private async throughStaging<T>(
    table: string,
    fill: (appender: DuckDBAppender) => void,
    move: () => Promise<T>,
  ): Promise<T> {
    const appender = await this.connection.createAppender(table);
    try {
      fill(appender);
    } finally {
      appender.closeSync();
    }
    try {
      return await move();
    } finally {
      await this.connection.run(`DELETE FROM ${table}`);
    }
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
    return this.quarantineBatch.put(entry);
  }

  /** One insert for a batch of entries: the ids it kept (new ones). */
  private async insertQuarantined(entries: readonly QuarantineEntry[]): Promise<ReadonlySet<string>> {
    const { sql, params } = valuesList<DuckDBValue>(
      entries.map((entry) => {
        const text = utf8(entry.payloadBase64);
        return [
          entry.id,
          entry.stage,
          entry.useCase,
          entry.deviceId,
          entry.topic,
          entry.clientId,
          micros(entry.receivedAt),
          micros(entry.quarantinedAt),
          JSON.stringify(entry.reasons),
          text,
          // Not UTF-8: payload_base64 keeps the exact bytes.
          text === null ? entry.payloadBase64 : null,
        ];
      }),
      { 6: asTimestamp, 7: asTimestamp, 8: asJson },
    );
    const inserted = await this.connection.runAndReadAll(
      `INSERT INTO quarantine (id, stage, use_case, device_id, topic, client_id, received_at, quarantined_at, reasons, payload, payload_base64)
       VALUES ${sql} ON CONFLICT DO NOTHING RETURNING id`,
      params,
    );
    return new Set(inserted.getRowObjectsJson().map((row) => row.id as string));
  }

  /**
   * Through the appender and one insert, as telemetry: a parameter list per row took most of the
   * writer's time once scoring was on.
   */
  writeInferences(records: readonly InferenceRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.exclusive(() =>
      this.throughStaging(
        INFERENCE_STAGING,
        (appender) => {
          for (const r of records) appendInference(appender, r);
        },
        // As with telemetry: the plain insert unless a row is already there (a rescored reading).
        async () => {
          await this.connection.run(INSERT_INFERENCES).catch(() => this.connection.run(MERGE_INFERENCES));
        },
      ),
    );
  }

  /**
   * A device's stored readings in time order: on the writer connection, after the writes queued
   * before it, or on the reader connection, for reads of what is committed already (calibration
   * readings, the drift checks) that must not hold ingestion up.
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
      return recordsFromColumns(result.getColumnsObjectJS(), this.measureColumns);
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
    const { sql, params } = valuesList<DuckDBValue>(
      refusals.map((r) => [micros(r.at), r.clientId, r.thing, r.action, r.topic ?? null, r.reason]),
      { 0: asTimestamp },
    );
    return this.exclusive(async () => {
      await this.connection.run(`INSERT INTO refusals VALUES ${sql}`, params);
    });
  }

  /**
   * Runs one read-only statement (SELECT or EXPLAIN) on the reader connection, at most `timeoutMs`
   * and `maxRows` rows. Anything else (a write, DDL, SET, ATTACH, a transaction, several
   * statements) is refused with QueryRefusedError before it runs.
   */
  query(sql: string, limits: QueryLimits = {}): Promise<QueryResult> {
    return this.onReader(() => readOnlyQuery(this.reader, sql, limits));
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

/** A VARCHAR column's value; anything else means the table is not what this code made. */
export { text } from './sql.ts';

/** The payload as text when it is UTF-8, else null. */
function utf8(payloadBase64: string): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(payloadBase64, 'base64'));
  } catch {
    return null;
  }
}

function rowKey(row: Row): string {
  return JSON.stringify([...DIMENSIONS.map((d) => row[d]), String(row.time_ms)]);
}

function recordRowKey(record: TelemetryRecord): string {
  return JSON.stringify([...DIMENSIONS.map((d) => record.dimensions[d]), String(record.time)]);
}
