import { PACKED_READING_FIELDS, type TelemetryMessage } from './contract.ts';

/**
 * The packed form of a telemetry contract: several readings of one device in one message. The
 * fields every reading of a device shares (contract, version, identity, firmware, origin) travel
 * once; each reading keeps only its own time, sequence number and measures:
 *
 *     { "contract": "pump.telemetry", "version": 2, "deviceId": "pump-001", "firmware": "1.4.2",
 *       "hardwareGeneration": "gen2", "readings": [ { "timestamp": "…", "seq": 7, "measures": {…} }, … ] }
 *
 * IoT Core meters messages and rule actions in 5 KB units, so one message of fifteen readings costs
 * what one reading alone does. Ingest unpacks a pack into single messages and checks each on its
 * own: one bad reading is quarantined alone, the others are stored.
 */

export { PACKED_READING_FIELDS } from './contract.ts';

/** The most readings one pack may hold: bounds the work one queue message can ask of ingest. */
export const MAX_READINGS_PER_PACK = 500;

/** IoT Core's metering unit for messages and rule actions: the size a pack fills at most by default. */
export const IOT_METERING_UNIT_BYTES = 5 * 1024;

export interface PackedReading {
  readonly timestamp: string;
  readonly seq: number;
  readonly measures: Readonly<Record<string, number>>;
}

/** A payload in the packed form: an object with a `readings` field. */
export function isPack(payload: unknown): payload is Record<string, unknown> & { readings: unknown } {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'readings' in payload;
}

/** The fields a pack's readings share: the pack without its readings. */
export function sharedFields(pack: Record<string, unknown>): Record<string, unknown> {
  const { readings: _readings, ...shared } = pack;
  return shared;
}

/**
 * One reading of a pack as a single message: the shared fields with the reading's own (`own`, also
 * apart). Keys of the reading other than its own fields are returned apart, so they can be refused
 * instead of overriding a shared field such as the device's identity.
 */
export function unpackReading(
  shared: Record<string, unknown>,
  reading: Record<string, unknown>,
): { message: Record<string, unknown>; own: Record<string, unknown>; foreignKeys: string[] } {
  const own: Record<string, unknown> = {};
  const foreignKeys: string[] = [];
  for (const [key, value] of Object.entries(reading)) {
    if ((PACKED_READING_FIELDS as readonly string[]).includes(key)) own[key] = value;
    else foreignKeys.push(key);
  }
  return { message: { ...shared, ...own }, own, foreignKeys };
}

/** The shared part of a single message, as a key: readings pack together only when theirs are equal. */
function sharedKey(message: TelemetryMessage): string {
  return JSON.stringify([
    message.contract,
    message.version,
    message.deviceId,
    message.firmware,
    message.hardwareGeneration,
    message.origin ?? null,
  ]);
}

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

/**
 * Packs consecutive single messages of one device while the pack stays within a byte budget. The
 * first message is always taken (a reading bigger than the budget still goes, alone); a message
 * with other shared fields (a firmware update in the backlog, a new contract version) starts the
 * next pack.
 */
export class PackBuilder {
  private readonly readings: string[] = [];
  private first: TelemetryMessage | undefined;
  private firstText = '';
  private key = '';
  /** Bytes of the pack with its readings array empty. */
  private frameBytes = 0;
  private readingBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxReadings: number = MAX_READINGS_PER_PACK,
  ) {
    if (!(maxReadings >= 1 && maxReadings <= MAX_READINGS_PER_PACK))
      throw new Error(`maxReadings must be 1..${MAX_READINGS_PER_PACK}, got ${maxReadings}`);
  }

  get count(): number {
    return this.readings.length;
  }

  /** Bytes of the message `build` would return for more than one reading. */
  get bytes(): number {
    return this.frameBytes + this.readingBytes;
  }

  /** Adds the message (its JSON text) if it belongs to this pack and fits; false leaves the pack as it was. */
  add(text: string): boolean {
    const message = JSON.parse(text) as TelemetryMessage;
    const reading = JSON.stringify({
      timestamp: message.timestamp,
      seq: message.seq,
      measures: message.measures,
    } satisfies PackedReading);
    if (!this.first) {
      this.first = message;
      this.firstText = text;
      this.key = sharedKey(message);
      const { timestamp: _t, seq: _s, measures: _m, ...shared } = message;
      this.frameBytes = byteLength(JSON.stringify({ ...shared, readings: [] }));
      this.readings.push(reading);
      this.readingBytes = byteLength(reading);
      return true;
    }
    if (this.readings.length >= this.maxReadings || sharedKey(message) !== this.key) return false;
    const added = byteLength(reading) + 1; // and its comma
    if (this.frameBytes + this.readingBytes + added > this.maxBytes) return false;
    this.readings.push(reading);
    this.readingBytes += added;
    return true;
  }

  /** The message to publish: the single message itself when it holds one reading, else the pack. */
  build(): string {
    if (!this.first) throw new Error('an empty pack has nothing to publish');
    if (this.readings.length === 1) return this.firstText;
    const { timestamp: _t, seq: _s, measures: _m, ...shared } = this.first;
    const frame = JSON.stringify({ ...shared, readings: [] });
    return `${frame.slice(0, -2)}${this.readings.join(',')}]}`;
  }
}
