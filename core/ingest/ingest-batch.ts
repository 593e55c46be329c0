import type { DataContract } from '../contracts/contract.ts';
import {
  isPack,
  MAX_READINGS_PER_PACK,
  PACKED_READING_FIELDS,
  sharedFields,
  unpackReading,
} from '../contracts/pack.ts';
import { reasonsFromZod, type Reason } from '../contracts/reasons.ts';
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import {
  DEFAULT_TIME_BOUNDS,
  type Clock,
  type QuarantineSink,
  type QuarantineStage,
  type TelemetryStore,
  type TimeBounds,
  type WriteOutcome,
} from './ports.ts';
import { recordKey, sameRecordContent, toTelemetryRecord, type TelemetryRecord } from './records.ts';
import { ruleMessageSchema, type RuleMessage } from './rule.ts';

/** One queued message as the transport delivers it: its transport id and the rule's JSON output. */
export interface InboundMessage {
  readonly id: string;
  readonly body: string;
}

export type MessageOutcome = 'stored' | 'duplicate' | 'quarantined' | 'retry';

/**
 * The outcome of one reading: a message holding one reading, or one reading of a pack. A message
 * that cannot be read as readings at all (not JSON, a pack past its limits) has one result.
 */
export interface MessageResult {
  /** The message's id for a single reading; `<message id>.<index>` (S3 keys avoid `#`) for a reading of a pack. */
  readonly id: string;
  /** The transport's id of the message this reading came in. */
  readonly messageId: string;
  readonly outcome: MessageOutcome;
  readonly useCase?: string;
  readonly thing?: string;
  /** Why it was quarantined, or why it must be retried. */
  readonly reasons: readonly Reason[];
}

export interface BatchSummary {
  /** One per reading, in the order of the messages and their readings. */
  readonly results: readonly MessageResult[];
  /** Readings newly stored, stored before, quarantined, waiting for a retry. */
  readonly stored: number;
  readonly duplicates: number;
  readonly quarantined: number;
  readonly retried: number;
  /**
   * Messages the transport must deliver again: those with a reading to retry. Their other readings
   * come back too, and find themselves stored (duplicates) or quarantined already.
   */
  readonly retryMessageIds: readonly string[];
  /** The records this batch newly stored, for scoring. */
  readonly storedRecords: readonly TelemetryRecord[];
}

export interface IngestDependencies {
  /**
   * The contract versions each use case accepts, by use-case id: its current one first, then
   * those a migration window still accepts. A message is checked against the version it names.
   */
  readonly useCases: ReadonlyMap<string, readonly DataContract[]>;
  readonly store: TelemetryStore;
  readonly quarantine: QuarantineSink;
  readonly clock: Clock;
  /** How far from its arrival a reading's time may be, by use-case id. @default DEFAULT_TIME_BOUNDS */
  readonly timeBounds?: ReadonlyMap<string, TimeBounds>;
}

/** What every examined reading knows: which reading of which message it is. */
interface Unit {
  /** The reading's id: see MessageResult.id. */
  readonly id: string;
  readonly message: InboundMessage;
  readonly rule?: RuleMessage;
  readonly useCase: string;
}

interface Accepted extends Unit {
  readonly kind: 'accepted';
  readonly rule: RuleMessage;
  readonly record: TelemetryRecord;
}

interface Refused extends Unit {
  readonly kind: 'refused';
  readonly reasons: Reason[];
  /** What the quarantine keeps (base64) when not the payload as published: one reading of a pack. */
  readonly keptPayloadBase64?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function reason(path: string, code: string, message: string): Reason {
  return { path, code, message };
}

/** Reasons a reading's time is outside what the store accepts, relative to its arrival. */
function timeReasons(time: number, receivedAt: number, bounds: TimeBounds): Reason[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  if (time > receivedAt + bounds.maxAheadMs) {
    return [
      reason(
        'timestamp',
        'time_out_of_bounds',
        `${iso(time)} is more than ${bounds.maxAheadMs / 60_000} min after arrival at ${iso(receivedAt)} (device clock ahead?)`,
      ),
    ];
  }
  if (time < receivedAt - bounds.maxAgeMs) {
    return [
      reason(
        'timestamp',
        'time_out_of_bounds',
        `${iso(time)} is older than the store keeps (${Math.round(bounds.maxAgeMs / 86_400_000)} days before arrival at ${iso(receivedAt)})`,
      ),
    ];
  }
  return [];
}

/** Everything that can be said about one message's readings before touching the store. */
function examine(message: InboundMessage, deps: IngestDependencies): Examined[] {
  const useCases = deps.useCases;
  const whole = (rule: RuleMessage | undefined, useCase: string, reasons: Reason[]): Examined[] => [
    { kind: 'refused', id: message.id, message, rule, useCase, reasons },
  ];
  let json: unknown;
  try {
    json = JSON.parse(message.body);
  } catch (error) {
    return whole(undefined, '', [
      reason('', 'invalid_envelope', `queue message is not JSON: ${errorText(error)}`),
    ]);
  }
  const envelope = ruleMessageSchema.safeParse(json, { reportInput: true });
  if (!envelope.success) {
    const reasons = reasonsFromZod(envelope.error.issues).map((r) => ({ ...r, path: `(rule).${r.path}` }));
    return whole(undefined, '', reasons);
  }
  const rule = envelope.data;
  const useCase = rule.topic.split('/')[1] ?? '';
  const accepted = useCases.get(useCase);
  if (!accepted || accepted.length === 0) {
    return whole(rule, useCase, [
      reason(
        '',
        'unknown_use_case',
        `topic "${rule.topic}" names no known use case (known: ${[...useCases.keys()].join(', ')})`,
      ),
    ]);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(utf8.decode(base64ToBytes(rule.payload)));
  } catch (error) {
    return whole(rule, useCase, [
      reason('', 'invalid_json', `payload is not UTF-8 JSON: ${errorText(error)}`),
    ]);
  }
  const unit = { message, rule, useCase };
  if (!isPack(payload)) return [examineReading({ ...unit, id: message.id }, payload, accepted, deps)];
  const { readings } = payload;
  if (!Array.isArray(readings) || readings.length === 0 || readings.length > MAX_READINGS_PER_PACK) {
    return whole(rule, useCase, [
      reason(
        'readings',
        'invalid_pack',
        `a pack holds 1 to ${MAX_READINGS_PER_PACK} readings in an array (got ${Array.isArray(readings) ? `${readings.length}` : typeof readings})`,
      ),
    ]);
  }
  const shared = sharedFields(payload);
  return readings.map((reading, index) => {
    const id = `${message.id}.${index}`;
    // What the quarantine keeps of a refused reading: a pack of that one reading, exactly as sent.
    const kept = () => bytesToBase64(utf8Encoder.encode(JSON.stringify({ ...shared, readings: [reading] })));
    const within = (r: Reason): Reason =>
      (PACKED_READING_FIELDS as readonly string[]).includes(r.path.split(/[.[]/, 1)[0] ?? '')
        ? { ...r, path: `readings[${index}].${r.path}` }
        : r;
    if (!isRecord(reading)) {
      return {
        kind: 'refused',
        ...unit,
        id,
        keptPayloadBase64: kept(),
        reasons: [reason(`readings[${index}]`, 'invalid_type', 'a packed reading must be an object')],
      };
    }
    const { message: single, foreignKeys } = unpackReading(shared, reading);
    const examined = examineReading({ ...unit, id }, single, accepted, deps);
    const foreign = foreignKeys.map((key) =>
      reason(
        `readings[${index}].${key}`,
        'unrecognized_keys',
        `a packed reading holds only ${PACKED_READING_FIELDS.join(', ')}; "${key}" belongs to the pack or to no field`,
      ),
    );
    if (examined.kind === 'accepted' && foreign.length === 0) return examined;
    const reasons = examined.kind === 'refused' ? examined.reasons.map(within) : [];
    return { kind: 'refused', ...unit, id, keptPayloadBase64: kept(), reasons: [...reasons, ...foreign] };
  });
}

/** Checks one reading, as a single message, against the contract version it names. */
function examineReading(
  unit: Unit & { rule: RuleMessage },
  payload: unknown,
  accepted: readonly DataContract[],
  deps: IngestDependencies,
): Examined {
  const { rule, useCase } = unit;
  const named = accepted.find(
    (c) => isRecord(payload) && payload.contract === c.id && payload.version === c.version,
  );
  // A version the use case does not accept is checked against the current one, so the reasons
  // say everything that must change, starting with the version.
  const contract = named ?? accepted[0];
  if (!contract) throw new Error('unreachable: a use case accepts at least one contract');
  const parsed = contract.schema.safeParse(payload, { reportInput: true });
  let reasons = parsed.success ? [] : reasonsFromZod(parsed.error.issues);
  if (!named && isRecord(payload)) {
    reasons = reasons.filter((r) => r.path !== 'contract' && r.path !== 'version');
    reasons.unshift(
      reason(
        'version',
        'unaccepted_contract',
        `${String(payload.contract)}@${String(payload.version)} is not accepted by use case "${useCase}" (accepts ${accepted.map((c) => c.ref).join(', ')})`,
      ),
    );
  }
  const deviceId = isRecord(payload) ? payload.deviceId : undefined;
  if (typeof deviceId === 'string' && deviceId !== rule.thing) {
    // The certificate proved who published; a payload claiming another identity is not trusted.
    reasons.push(
      reason('deviceId', 'identity_mismatch', `"${deviceId}" is not the publishing thing "${rule.thing}"`),
    );
  }
  if (!parsed.success || reasons.length > 0) return { kind: 'refused', ...unit, reasons };
  const record = toTelemetryRecord(useCase, contract, parsed.data);
  const late = timeReasons(
    record.time,
    rule.receivedAt,
    deps.timeBounds?.get(useCase) ?? DEFAULT_TIME_BOUNDS,
  );
  if (late.length > 0) return { kind: 'refused', ...unit, reasons: late };
  return { kind: 'accepted', ...unit, record };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Examined = Accepted | Refused;

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
