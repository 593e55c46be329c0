import type { ContractCheck, DataContract, PackedReadingCheck } from '../contracts/contract.ts';
import {
  isPack,
  MAX_READINGS_PER_PACK,
  PACKED_READING_FIELDS,
  sharedFields,
  unpackReading,
} from '../contracts/pack.ts';
import { reasonsFromZod, type Reason } from '../contracts/reasons.ts';
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import type { InboundMessage, IngestDependencies } from './batch-types.ts';
import { DEFAULT_TIME_BOUNDS, type TimeBounds } from './ports.ts';
import { toTelemetryRecord, type TelemetryRecord } from './records.ts';
import { ruleMessageSchema, type RuleMessage } from './rule.ts';

/*
 * What can be said about a message's readings before the store is touched: the rule's envelope,
 * the payload as JSON, a pack's limits, each reading against its contract version, its identity
 * and its time.
 */

/** What every examined reading knows: which reading of which message it is. */
export interface Unit {
  /** The reading's id: see MessageResult.id. */
  readonly id: string;
  readonly message: InboundMessage;
  readonly rule?: RuleMessage;
  readonly useCase: string;
}

export interface Accepted extends Unit {
  readonly kind: 'accepted';
  readonly rule: RuleMessage;
  readonly record: TelemetryRecord;
}

export interface Refused extends Unit {
  readonly kind: 'refused';
  readonly reasons: Reason[];
  /** What the quarantine keeps (base64) when not the payload as published: one reading of a pack. */
  readonly keptPayloadBase64?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function reason(path: string, code: string, message: string): Reason {
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
export function examine(message: InboundMessage, deps: IngestDependencies): Examined[] {
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
  return examinePack(unit, payload, accepted, deps);
}

/** Each reading of a pack, as a message of its own; a refused one keeps only itself for the quarantine. */
function examinePack(
  unit: Omit<Unit, 'id'> & { rule: RuleMessage },
  payload: Record<string, unknown> & { readings?: unknown },
  accepted: readonly DataContract[],
  deps: IngestDependencies,
): Examined[] {
  const { message, rule, useCase } = unit;
  const { readings } = payload;
  if (!Array.isArray(readings) || readings.length === 0 || readings.length > MAX_READINGS_PER_PACK) {
    return [
      {
        kind: 'refused',
        id: message.id,
        message,
        rule,
        useCase,
        reasons: [
          reason(
            'readings',
            'invalid_pack',
            `a pack holds 1 to ${MAX_READINGS_PER_PACK} readings in an array (got ${Array.isArray(readings) ? `${readings.length}` : typeof readings})`,
          ),
        ],
      },
    ];
  }
  const shared = sharedFields(payload);
  const checks = new PackChecks(shared);
  return readings.map((reading, index) =>
    examinePacked({ ...unit, id: `${message.id}.${index}` }, index, shared, reading, checks, accepted, deps),
  );
}

/** One reading of a pack, as a single message; a refused one keeps only itself for the quarantine. */
function examinePacked(
  unit: Unit & { rule: RuleMessage },
  index: number,
  shared: Record<string, unknown>,
  reading: unknown,
  checks: PackChecks,
  accepted: readonly DataContract[],
  deps: IngestDependencies,
): Examined {
  if (!isRecord(reading)) {
    return {
      kind: 'refused',
      ...unit,
      keptPayloadBase64: keptReading(shared, reading),
      reasons: [reason(`readings[${index}]`, 'invalid_type', 'a packed reading must be an object')],
    };
  }
  const { message: single, own, foreignKeys } = unpackReading(shared, reading);
  const examined = examineReading(unit, single, accepted, deps, { checks, own });
  if (examined.kind === 'accepted' && foreignKeys.length === 0) return examined;
  const foreign = foreignKeys.map((key) =>
    reason(
      `readings[${index}].${key}`,
      'unrecognized_keys',
      `a packed reading holds only ${PACKED_READING_FIELDS.join(', ')}; "${key}" belongs to the pack or to no field`,
    ),
  );
  const reasons = examined.kind === 'refused' ? examined.reasons.map((r) => withinReading(r, index)) : [];
  return {
    kind: 'refused',
    ...unit,
    keptPayloadBase64: keptReading(shared, reading),
    reasons: [...reasons, ...foreign],
  };
}

/** What the quarantine keeps of a refused packed reading: a pack of that one reading, exactly as sent. */
function keptReading(shared: Record<string, unknown>, reading: unknown): string {
  return bytesToBase64(utf8Encoder.encode(JSON.stringify({ ...shared, readings: [reading] })));
}

/** A reason about a reading's own field, with the path to it in the pack. */
function withinReading(r: Reason, index: number): Reason {
  return (PACKED_READING_FIELDS as readonly string[]).includes(r.path.split(/[.[]/, 1)[0] ?? '')
    ? { ...r, path: `readings[${index}].${r.path}` }
    : r;
}

/** A pack's contract checks: the shared fields checked once per contract, not once a reading. */
class PackChecks {
  private readonly byContract = new Map<DataContract, PackedReadingCheck | undefined>();

  constructor(private readonly shared: Record<string, unknown>) {}

  /** `single` is the reading as a whole message; `own`, its own fields (`unpackReading`). */
  check(contract: DataContract, single: unknown, own: Record<string, unknown>): ContractCheck {
    if (!this.byContract.has(contract)) this.byContract.set(contract, contract.packedCheck(this.shared));
    const packed = this.byContract.get(contract);
    return packed ? packed(own) : wholeCheck(contract, single);
  }
}

/** A message checked whole against a contract's schema. */
function wholeCheck(contract: DataContract, payload: unknown): ContractCheck {
  const parsed = contract.schema.safeParse(payload, { reportInput: true });
  return parsed.success ? parsed : { success: false, issues: parsed.error.issues };
}

/**
 * Checks one reading, as a single message, against the contract version it names (a packed
 * reading with its pack's shared fields checked once).
 */
function examineReading(
  unit: Unit & { rule: RuleMessage },
  payload: unknown,
  accepted: readonly DataContract[],
  deps: IngestDependencies,
  pack?: { readonly checks: PackChecks; readonly own: Record<string, unknown> },
): Examined {
  const { rule, useCase } = unit;
  const named = accepted.find(
    (c) => isRecord(payload) && payload.contract === c.id && payload.version === c.version,
  );
  // A version the use case does not accept is checked against the current one, so the reasons
  // say everything that must change, starting with the version.
  const contract = named ?? accepted[0];
  if (!contract) throw new Error('unreachable: a use case accepts at least one contract');
  const parsed = pack ? pack.checks.check(contract, payload, pack.own) : wholeCheck(contract, payload);
  let reasons = parsed.success ? [] : reasonsFromZod(parsed.issues);
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

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type Examined = Accepted | Refused;
