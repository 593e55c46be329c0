import type { Reason } from '../contracts/reasons.ts';
import {
  ingestBatch,
  type IngestDependencies,
  type InboundMessage,
  type MessageResult,
} from './ingest-batch.ts';
import type { QuarantineEntry, QuarantineSink, QuarantineStage } from './ports.ts';
import type { RuleMessage } from './rule.ts';

/** Which quarantined messages a replay takes. Every field narrows; none means all. */
export interface ReplayFilter {
  readonly useCase?: string;
  /** Only messages quarantined at or after this time (epoch ms), e.g. since the bad release. */
  readonly since?: number;
  /** Only messages with a reason whose code or message contains this text (any case). */
  readonly reason?: string;
}

/**
 * Where the quarantine is kept, as a replay needs it: a DuckDB table on one machine, the
 * quarantine bucket in the cloud. Entries stay until a replay stores them: nothing is deleted
 * before its reading is in the store.
 */
export interface QuarantineLedger {
  /**
   * Up to `limit` entries still quarantined, of the filter's use case and time, in a stable order
   * (quarantine time, then id), after `after` when given: how a replay pages through them.
   */
  pending(
    filter: Pick<ReplayFilter, 'useCase' | 'since'>,
    after: QuarantineEntry | undefined,
    limit: number,
  ): Promise<QuarantineEntry[]>;
  /** The entry's reading is in the store now (stored by this replay, or found there): it leaves the quarantine. */
  resolve(entry: QuarantineEntry, outcome: 'stored' | 'duplicate', at: number): Promise<void>;
  /** The entry is still refused, for these reasons today: they replace the old ones. */
  requarantine(entry: QuarantineEntry, reasons: readonly Reason[], at: number): Promise<void>;
}

export interface ReplayReport {
  /** Entries the filter selected. */
  readonly examined: number;
  /** Valid now and newly stored. */
  readonly stored: number;
  /** Valid now and already in the store (an earlier replay stored it before it could say so). */
  readonly alreadyStored: number;
  /** Still refused; each keeps its new reasons. */
  readonly stillQuarantined: number;
  /** The store could not take them now; they stay as they were, for the next replay. */
  readonly retry: number;
  /** Still-refused entries by their first reason's code, the most common first. */
  readonly stillRefusedBy: readonly { readonly code: string; readonly count: number }[];
  /** False when the replay stopped before the end (its time was up): run it again to go on. */
  readonly complete: boolean;
}

/** Stages a replay takes: messages that were telemetry. Edge health reports are not replayed. */
const REPLAYABLE: ReadonlySet<QuarantineStage> = new Set(['validation', 'store-rejected']);

export const DEFAULT_REPLAY_PAGE = 200;

/** The queue message the ingest rule made of the quarantined payload, at its first arrival. */
function inboundOf(entry: QuarantineEntry): InboundMessage {
  const rule: RuleMessage = {
    payload: entry.payloadBase64,
    topic: entry.topic,
    thing: entry.deviceId,
    clientId: entry.clientId,
    receivedAt: entry.receivedAt,
  };
  return { id: entry.id, body: JSON.stringify(rule) };
}

function matchesReason(entry: QuarantineEntry, text: string | undefined): boolean {
  if (text === undefined || text === '') return true;
  const needle = text.toLowerCase();
  return entry.reasons.some(
    (r) => r.code.toLowerCase().includes(needle) || r.message.toLowerCase().includes(needle),
  );
}

/**
 * Where a replay's refusals go: nowhere new. The entry is in the ledger already; its result's
 * reasons replace the old ones there.
 */
const alreadyInLedger: QuarantineSink = { put: () => Promise.resolve('kept') };

/**
 * Re-validates quarantined messages against today's contracts and stores those that pass, through
 * the same ingest use case as live traffic, with their first arrival time. Exactly once: the
 * store keeps one row per reading (a second replay finds it and calls it a duplicate), and an
 * entry leaves the quarantine only after its reading is stored. Replayed readings are stored, not
 * scored: they are history, not live state.
 */
export async function replayQuarantine(
  ledger: QuarantineLedger,
  deps: Omit<IngestDependencies, 'quarantine'>,
  filter: ReplayFilter,
  options: {
    pageSize?: number;
    onProgress?: (report: ReplayReport) => void;
    /** Asked before each page: false stops the replay there (a Lambda near its timeout). */
    shouldContinue?: () => boolean;
  } = {},
): Promise<ReplayReport> {
  const pageSize = options.pageSize ?? DEFAULT_REPLAY_PAGE;
  const counts = { examined: 0, stored: 0, alreadyStored: 0, stillQuarantined: 0, retry: 0 };
  const refusedBy = new Map<string, number>();
  let complete = true;
  const report = (): ReplayReport => ({
    ...counts,
    complete,
    stillRefusedBy: [...refusedBy]
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
  });
  let after: QuarantineEntry | undefined;
  for (;;) {
    if (options.shouldContinue && !options.shouldContinue()) {
      complete = false;
      break;
    }
    const page = await ledger.pending(filter, after, pageSize);
    if (page.length === 0) break;
    after = page.at(-1);
    const selected = page.filter((e) => REPLAYABLE.has(e.stage) && matchesReason(e, filter.reason));
    if (selected.length === 0) continue;
    const summary = await ingestBatch(selected.map(inboundOf), { ...deps, quarantine: alreadyInLedger });
    // An entry is one reading, or a message that could not be unpacked: its results decide together.
    const resultsOf = new Map<string, MessageResult[]>();
    for (const result of summary.results)
      resultsOf.set(result.messageId, [...(resultsOf.get(result.messageId) ?? []), result]);
    const now = deps.clock.now();
    for (const entry of selected) {
      const results = resultsOf.get(entry.id) ?? [];
      counts.examined += 1;
      const refused = results.filter((result) => result.outcome === 'quarantined');
      if (results.length > 0 && results.every((r) => r.outcome === 'stored' || r.outcome === 'duplicate')) {
        const outcome = results.some((r) => r.outcome === 'stored') ? 'stored' : 'duplicate';
        await ledger.resolve(entry, outcome, now);
        counts[outcome === 'stored' ? 'stored' : 'alreadyStored'] += 1;
      } else if (refused.length > 0) {
        const reasons = refused.flatMap((r) => r.reasons);
        await ledger.requarantine(entry, reasons, now);
        counts.stillQuarantined += 1;
        const code = reasons[0]?.code ?? 'unknown';
        refusedBy.set(code, (refusedBy.get(code) ?? 0) + 1);
      } else {
        counts.retry += 1;
      }
    }
    options.onProgress?.(report());
    if (page.length < pageSize) break;
  }
  return report();
}
