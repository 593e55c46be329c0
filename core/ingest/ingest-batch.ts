import type { Reason } from '../contracts/reasons.ts';
import { bytesToBase64 } from './base64.ts';
import type {
  BatchSummary,
  IngestDependencies,
  InboundMessage,
  MessageOutcome,
  MessageResult,
} from './batch-types.ts';
import { errorText, examine, reason, type Accepted, type Examined } from './examine.ts';
import type { QuarantineStage, TelemetryStore, WriteOutcome } from './ports.ts';
import { recordKey, sameRecordContent } from './records.ts';

const utf8Encoder = new TextEncoder();

export type {
  BatchSummary,
  IngestDependencies,
  InboundMessage,
  MessageOutcome,
  MessageResult,
} from './batch-types.ts';

interface Refusal {
  readonly item: Examined;
  readonly stage: QuarantineStage;
  readonly reasons: readonly Reason[];
}

/** What happens to each examined reading: refused ones, the records to write, and copies of them. */
interface Plan {
  /** Every reading that will not be stored, by reading id, with its stage and reasons. */
  readonly refusals: Map<string, Refusal>;
  readonly toWrite: Accepted[];
  /** A redelivered copy within the batch, and the reading it copies. */
  readonly followers: Map<Accepted, Accepted>;
}

/**
 * Within a batch, a redelivered reading is stored once; a different reading claiming the same
 * series and time is a conflict the store would reject, so it is quarantined here instead.
 */
function plan(examined: readonly Examined[]): Plan {
  const refusals = new Map<string, Refusal>();
  for (const item of examined) {
    if (item.kind === 'refused') refusals.set(item.id, { item, stage: 'validation', reasons: item.reasons });
  }
  const leaders = new Map<string, Accepted>();
  const followers = new Map<Accepted, Accepted>();
  const toWrite: Accepted[] = [];
  for (const item of examined) {
    if (item.kind !== 'accepted') continue;
    const key = recordKey(item.record);
    const leader = leaders.get(key);
    if (!leader) {
      leaders.set(key, item);
      toWrite.push(item);
    } else if (sameRecordContent(leader.record, item.record)) {
      followers.set(item, leader);
    } else {
      refusals.set(item.id, {
        item,
        stage: 'store-rejected',
        reasons: [
          reason('', 'conflict', `same device and time as reading ${leader.id} with different values`),
        ],
      });
    }
  }
  return { refusals, toWrite, followers };
}

/** Writes the records; a record the store rejects joins the refusals. */
async function write(batch: Plan, store: TelemetryStore): Promise<Map<Accepted, WriteOutcome>> {
  const outcomes = new Map<Accepted, WriteOutcome>();
  if (batch.toWrite.length === 0) return outcomes;
  const written = await store.write(batch.toWrite.map((item) => item.record));
  batch.toWrite.forEach((item, index) => {
    const outcome = written[index] ?? {
      status: 'retry',
      reason: 'store returned no outcome for this record',
    };
    outcomes.set(item, outcome);
    if (outcome.status === 'rejected') {
      batch.refusals.set(item.id, {
        item,
        stage: 'store-rejected',
        reasons: [reason('', 'store_rejected', outcome.reason)],
      });
    }
  });
  return outcomes;
}

interface QuarantineResults {
  /** Why, by reading id, for each reading the quarantine could not take. */
  readonly failures: Map<string, string>;
  /** Readings an earlier delivery already quarantined. */
  readonly alreadyKept: Set<string>;
}

/** Quarantines every refusal. */
async function quarantineAll(
  refusals: Plan['refusals'],
  deps: IngestDependencies,
): Promise<QuarantineResults> {
  const quarantinedAt = deps.clock.now();
  const failures = new Map<string, string>();
  const alreadyKept = new Set<string>();
  await Promise.all(
    [...refusals].map(async ([id, { item, stage, reasons }]) => {
      const kept = item.kind === 'refused' ? item.keptPayloadBase64 : undefined;
      try {
        const outcome = await deps.quarantine.put({
          id,
          stage,
          useCase: item.useCase,
          deviceId: item.rule?.thing ?? '',
          topic: item.rule?.topic ?? '',
          clientId: item.rule?.clientId ?? '',
          receivedAt: item.rule?.receivedAt ?? quarantinedAt,
          quarantinedAt,
          reasons,
          payloadBase64: kept ?? item.rule?.payload ?? bytesToBase64(utf8Encoder.encode(item.message.body)),
        });
        if (outcome === 'already-kept') alreadyKept.add(id);
      } catch (error) {
        failures.set(id, `quarantine unavailable: ${errorText(error)}`);
      }
    }),
  );
  return { failures, alreadyKept };
}

function resultOf(
  item: Examined,
  batch: Plan,
  outcomes: ReadonlyMap<Accepted, WriteOutcome>,
  quarantined: QuarantineResults,
): MessageResult {
  const base = {
    id: item.id,
    messageId: item.message.id,
    useCase: item.useCase || undefined,
    thing: item.rule?.thing,
  };
  const failure = quarantined.failures.get(item.id);
  if (failure) return { ...base, outcome: 'retry', reasons: [reason('', 'retry', failure)] };
  const refusal = batch.refusals.get(item.id);
  // A redelivery of a reading quarantined before, as a redelivered reading is a duplicate of its row.
  if (refusal && quarantined.alreadyKept.has(item.id)) return { ...base, outcome: 'duplicate', reasons: [] };
  if (refusal) return { ...base, outcome: 'quarantined', reasons: refusal.reasons };
  if (item.kind === 'refused') throw new Error('unreachable: every refused reading has a refusal');
  const leader = batch.followers.get(item);
  const outcome = outcomes.get(leader ?? item);
  if (!outcome || outcome.status === 'retry') {
    return { ...base, outcome: 'retry', reasons: [reason('', 'retry', outcome?.reason ?? 'not written')] };
  }
  if (outcome.status === 'rejected') {
    // A copy of a reading the store rejected: its leader is quarantined with the reason.
    return { ...base, outcome: 'quarantined', reasons: [reason('', 'store_rejected', outcome.reason)] };
  }
  return { ...base, outcome: leader || outcome.status === 'duplicate' ? 'duplicate' : 'stored', reasons: [] };
}

/**
 * Ingests one batch: unpacks packed messages into their readings, validates every reading against
 * its use case's contract, stores the valid ones, quarantines the rest with every reason (a reading
 * of a pack on its own), and reports an outcome per reading. Only a transient failure (store
 * throttled or down, quarantine unavailable) yields `retry`; the adapter hands those messages back
 * to the queue. Nothing is dropped and no single reading fails the batch.
 */
export async function ingestBatch(
  messages: readonly InboundMessage[],
  deps: IngestDependencies,
): Promise<BatchSummary> {
  const examined = messages.flatMap((message) => examine(message, deps));
  const batch = plan(examined);
  const outcomes = await write(batch, deps.store);
  const quarantined = await quarantineAll(batch.refusals, deps);
  const results = examined.map((item) => resultOf(item, batch, outcomes, quarantined));
  const count = (outcome: MessageOutcome) => results.filter((r) => r.outcome === outcome).length;
  return {
    storedRecords: batch.toWrite
      .filter((item) => outcomes.get(item)?.status === 'stored')
      .map((item) => item.record),
    results,
    stored: count('stored'),
    duplicates: count('duplicate'),
    quarantined: count('quarantined'),
    retried: count('retry'),
    retryMessageIds: [...new Set(results.filter((r) => r.outcome === 'retry').map((r) => r.messageId))],
  };
}
