import { pumpTelemetryV1 } from '../../test/support/contracts.ts';

/*
 * The hostile bench's messages: a seeded mix of valid readings and malformed shapes, each with
 * what must become of it.
 */

export type Kind =
  | 'valid'
  | 'duplicate'
  | 'empty'
  | 'not-json'
  | 'not-utf8'
  | 'array'
  | 'missing-fields'
  | 'out-of-range'
  | 'lone-surrogate'
  | 'identity-mismatch'
  | 'year-0'
  | 'year-9999'
  | 'deep-nesting'
  | 'big-string'
  | 'infinity'
  | 'proto-key'
  | 'wrong-version'
  | 'oversized';

export interface Message {
  readonly index: number;
  readonly thing: string;
  readonly kind: Kind;
  readonly payload: Buffer;
  /** Found in the quarantined payload (text or bytes); absent for shapes that cannot carry one. */
  readonly marker?: string;
  /** Device and time of a valid reading. */
  readonly key?: string;
  sends: number;
  acked: boolean;
}

export const MALFORMED: readonly Kind[] = [
  'empty',
  'not-json',
  'not-utf8',
  'array',
  'missing-fields',
  'out-of-range',
  'lone-surrogate',
  'identity-mismatch',
  'year-0',
  'year-9999',
  'deep-nesting',
  'big-string',
  'infinity',
  'proto-key',
  'wrong-version',
];

type PumpReading = ReturnType<typeof pumpTelemetryV1.example>;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The JSON of a reading with one textual edit: what JSON.stringify cannot write. */
const edited = (value: unknown, from: string, to: string) =>
  Buffer.from(JSON.stringify(value).replace(from, to));

/** Each malformed shape's payload, carrying the message's marker where it can. */
const MALFORMED_PAYLOADS: Readonly<
  Record<
    Exclude<Kind, 'valid' | 'duplicate' | 'oversized'>,
    (base: PumpReading, marker: string, thing: string) => Buffer
  >
> = {
  empty: () => Buffer.alloc(0),
  'not-json': (_, marker) => Buffer.from(`not json ${marker}`),
  'not-utf8': (_, marker) => Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(marker)]),
  array: (_, marker) => json([marker, 1, 2]),
  'missing-fields': (_, marker, thing) => json({ deviceId: thing, marker }),
  'out-of-range': (base, marker) =>
    json({ ...base, marker, measures: { ...base.measures, motorTemperature: 900 } }),
  'lone-surrogate': (base, marker) =>
    edited({ ...base, firmware: `${marker}\\ud800` }, '\\\\ud800', '\\ud800'),
  'identity-mismatch': (base, marker) => json({ ...base, deviceId: `someone-else`, firmware: marker }),
  'year-0': (base, marker) => json({ ...base, firmware: marker, timestamp: '0000-01-01T00:00:00.000Z' }),
  'year-9999': (base, marker) => json({ ...base, firmware: marker, timestamp: '9999-12-31T23:59:59.000Z' }),
  'deep-nesting': (base, marker) => {
    let nested: unknown = marker;
    for (let depth = 0; depth < 2000; depth++) nested = { a: nested };
    return json({ ...base, measures: nested });
  },
  'big-string': (base, marker) => json({ ...base, firmware: `${marker}${'x'.repeat(20_000)}` }),
  infinity: (base, marker) =>
    edited({ ...base, firmware: marker }, '"motorCurrent":1.35', '"motorCurrent":1e999'),
  'proto-key': (base, marker) => edited({ ...base, firmware: marker }, '{', '{"__proto__":{"polluted":1},'),
  'wrong-version': (base, marker) => json({ ...base, version: 99, firmware: marker }),
};

/** Messages with no marker to find in the quarantine. */
const UNMARKED: ReadonlySet<Kind> = new Set(['empty']);

/** One message of a publisher: its `perThing`-th reading, valid or, by the draw, malformed. */
export function makeMessage(
  index: number,
  thing: string,
  perThing: number,
  random: () => number,
  startTime: number,
): Message {
  const marker = `m${index}x`;
  const base = {
    ...pumpTelemetryV1.example({ deviceId: thing, seq: perThing }),
    // 10 ms apart per device: every valid reading has a time of its own.
    timestamp: new Date(startTime + perThing * 10).toISOString(),
  };
  const draw = random();
  const message = (kind: Kind, payload: Buffer, extra: Partial<Message> = {}): Message => ({
    index,
    thing,
    kind,
    payload,
    sends: 0,
    acked: false,
    ...extra,
  });
  if (draw < 0.45) return message('valid', json(base), { key: `${thing}|${base.timestamp}` });
  if (draw < 0.5) return message('duplicate', json(base), { key: `${thing}|${base.timestamp}` });
  if (draw < 0.5002) return message('oversized', Buffer.alloc(200 * 1024, 0x41), { marker });
  const kind = MALFORMED[Math.floor(random() * MALFORMED.length)] ?? 'empty';
  const payload = MALFORMED_PAYLOADS[kind as keyof typeof MALFORMED_PAYLOADS](base, marker, thing);
  return message(kind, payload, UNMARKED.has(kind) ? {} : { marker });
}
