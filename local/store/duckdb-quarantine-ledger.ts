import type { DuckDBValue } from '@duckdb/node-api';
import type { Reason } from '../../core/contracts/reasons.ts';
import type { QuarantineEntry, QuarantineStage } from '../../core/ingest/ports.ts';
import type { QuarantineLedger, ReplayFilter } from '../../core/ingest/quarantine-replay.ts';
import type { DuckDbStore } from './duckdb-store.ts';
import type { Row } from './read-only-query.ts';
import { QUARANTINE_COLUMNS } from './schema.ts';

const STAGES: readonly QuarantineStage[] = ['validation', 'store-rejected', 'health'];

/** The columns both tables share, in order. */
const COLUMNS =
  'id, stage, use_case, device_id, topic, client_id, received_at, quarantined_at, reasons, payload, payload_base64';

function reasonsOf(value: unknown): Reason[] {
  try {
    const parsed = JSON.parse(String(value)) as unknown;
    return Array.isArray(parsed)
      ? parsed.filter(
          (r): r is Reason =>
            typeof r === 'object' &&
            r !== null &&
            typeof (r as Reason).path === 'string' &&
            typeof (r as Reason).code === 'string' &&
            typeof (r as Reason).message === 'string',
        )
      : [];
  } catch {
    return [];
  }
}

function entryOf(row: Row): QuarantineEntry {
  const stage = STAGES.find((s) => s === row.stage) ?? 'validation';
  return {
    id: String(row.id),
    stage,
    useCase: String(row.use_case),
    deviceId: String(row.device_id),
    topic: String(row.topic),
    clientId: String(row.client_id),
    receivedAt: Number(row.received_ms),
    quarantinedAt: Number(row.quarantined_ms),
    reasons: reasonsOf(row.reasons),
    // UTF-8 payloads are kept as text, the others as base64.
    payloadBase64:
      typeof row.payload_base64 === 'string'
        ? row.payload_base64
        : Buffer.from(typeof row.payload === 'string' ? row.payload : '', 'utf8').toString('base64'),
  };
}

/**
 * The local quarantine as a replay sees it. A replayed entry whose reading is now stored moves
 * from `quarantine` to `quarantine_resolved` (with when and how) in one transaction, so
 * `quarantine` stays "what is still refused" and the history of every fix is kept.
 */
export class DuckDbQuarantineLedger implements QuarantineLedger {
  private constructor(private readonly store: DuckDbStore) {}

  static async open(store: DuckDbStore): Promise<DuckDbQuarantineLedger> {
    await store.withWriter(async (c) => {
      await c.run(`
        CREATE TABLE IF NOT EXISTS quarantine_resolved (${QUARANTINE_COLUMNS},
          resolved_at TIMESTAMP NOT NULL,
          outcome VARCHAR NOT NULL
        );`);
      // When a replay last looked at an entry it left quarantined.
      await c.run('ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS replayed_at TIMESTAMP');
    });
    return new DuckDbQuarantineLedger(store);
  }

  pending(
    filter: Pick<ReplayFilter, 'useCase' | 'since'>,
    after: QuarantineEntry | undefined,
    limit: number,
  ): Promise<QuarantineEntry[]> {
    return this.store.withWriter(async (c) => {
      const where: string[] = [];
      const params: DuckDBValue[] = [];
      const param = (value: DuckDBValue) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (filter.useCase !== undefined) where.push(`use_case = ${param(filter.useCase)}`);
      if (filter.since !== undefined)
        where.push(`quarantined_at >= make_timestamp(${param(BigInt(filter.since) * 1000n)}::BIGINT)`);
      if (after) {
        where.push(
          `(quarantined_at, id) > (make_timestamp(${param(BigInt(after.quarantinedAt) * 1000n)}::BIGINT), ${param(after.id)})`,
        );
      }
      const result = await c.runAndReadAll(
        `SELECT ${COLUMNS}, epoch_ms(received_at) AS received_ms, epoch_ms(quarantined_at) AS quarantined_ms
         FROM quarantine ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY quarantined_at, id LIMIT ${param(limit)}`,
        params,
      );
      return result.getRowObjectsJson().map((row) => entryOf(row));
    });
  }

  resolve(entry: QuarantineEntry, outcome: 'stored' | 'duplicate', at: number): Promise<void> {
    return this.store.withWriter(async (c) => {
      await c.run('BEGIN TRANSACTION');
      try {
        await c.run(
          `INSERT INTO quarantine_resolved (${COLUMNS}, resolved_at, outcome)
           SELECT ${COLUMNS}, make_timestamp($2::BIGINT), $3 FROM quarantine WHERE id = $1
           ON CONFLICT DO NOTHING`,
          [entry.id, BigInt(at) * 1000n, outcome],
        );
        await c.run('DELETE FROM quarantine WHERE id = $1', [entry.id]);
        await c.run('COMMIT');
      } catch (error) {
        await c.run('ROLLBACK');
        throw error;
      }
    });
  }

  requarantine(entry: QuarantineEntry, reasons: readonly Reason[], at: number): Promise<void> {
    return this.store.withWriter(async (c) => {
      await c.run(
        'UPDATE quarantine SET reasons = $2::JSON, replayed_at = make_timestamp($3::BIGINT) WHERE id = $1',
        [entry.id, JSON.stringify(reasons), BigInt(at) * 1000n],
      );
    });
  }
}
