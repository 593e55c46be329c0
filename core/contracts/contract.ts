import { z } from 'zod';
import type { ContractDocument } from './document.ts';

/** One measured quantity of a contract: its unit and the range a real sensor can physically report. */
export interface MeasureSpec {
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly description: string;
  /** Column name in the stores (Timestream measure name, DuckDB column). */
  readonly column: string;
  /**
   * Whether a device may leave it out: how a new version adds a measure without refusing the
   * messages of devices still on the old one. @default false
   */
  readonly optional?: boolean;
}

export type MeasureSpecs = Readonly<Record<string, MeasureSpec>>;

/** Device identity as IoT Core allows it for a thing name. */
export const thingNameSchema = z
  .string()
  .regex(/^[a-zA-Z0-9:_-]{1,128}$/, 'must be a thing name: 1-128 of a-z A-Z 0-9 : _ -');

// JSON can carry a lone UTF-16 surrogate ("\ud800"); stores replace it with U+FFFD, so two
// different payloads would become one row. Text in the envelope must be valid Unicode.
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);
const WELL_FORMED = 'must be valid Unicode text (it holds a lone surrogate)';

/** Where a reading comes from. Absent means a real device: simulators must say so. */
export const READING_ORIGINS = ['device', 'simulated'] as const;
export type ReadingOrigin = (typeof READING_ORIGINS)[number];

export const envelopeFields = {
  deviceId: thingNameSchema.meta({ description: 'Thing name of the publishing device.' }),
  timestamp: z.iso
    .datetime({ offset: true })
    .meta({ description: 'Time the reading was taken on the device (ISO 8601).' }),
  seq: z
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .meta({
      description:
        'Per-device sequence number, increasing by one per reading, for counting gaps. Not part of the ' +
        "reading's identity (device and timestamp are): a device that restarts its counter sends new readings.",
    }),
  firmware: z
    .string()
    .min(1)
    .max(64)
    .refine(wellFormed, WELL_FORMED)
    .meta({ description: 'Firmware version of the device.' }),
  hardwareGeneration: z
    .string()
    .min(1)
    .max(32)
    .refine(wellFormed, WELL_FORMED)
    .meta({ description: 'Hardware generation of the device, e.g. "gen2".' }),
  origin: z.enum(READING_ORIGINS).optional().meta({
    description:
      'Where the reading comes from: "device" (the default when absent) or "simulated". Stored with the reading, so simulated data never passes for plant data.',
  }),
} as const;

type MeasuresShape<M extends MeasureSpecs> = { [K in keyof M]: z.ZodNumber | z.ZodOptional<z.ZodNumber> };

function measureSchema(spec: MeasureSpec): z.ZodNumber {
  return z
    .number()
    .min(spec.min, `below the physical range ${spec.min}..${spec.max} ${spec.unit}`)
    .max(spec.max, `above the physical range ${spec.min}..${spec.max} ${spec.unit}`)
    .meta({ description: spec.description, unit: spec.unit });
}

/**
 * Builds the zod schema of a telemetry contract: the envelope, the contract's id and version as
 * literals, and a strict `measures` object. Strict objects make a renamed or extra field an error
 * instead of silently lost data.
 */
export function telemetrySchema<M extends MeasureSpecs>(id: string, version: number, measures: M) {
  const shape = Object.fromEntries(
    Object.entries(measures).map(([name, spec]) => [
      name,
      spec.optional ? measureSchema(spec).optional() : measureSchema(spec),
    ]),
  ) as MeasuresShape<M>;
  return z
    .strictObject({
      contract: z.literal(id).meta({ description: 'Data contract id.' }),
      version: z.literal(version).meta({ description: 'Data contract version.' }),
      ...envelopeFields,
      measures: z.strictObject(shape),
    })
    .meta({ title: `${id}@${version}`, $id: `${id}@${version}` });
}

/** What a packed reading carries (core/contracts/pack.ts); every other field is the pack's, shared. */
export const PACKED_READING_FIELDS = ['timestamp', 'seq', 'measures'] as const;

/** A contract check's outcome: the message, or zod's issues in the order the whole schema gives them. */
export type ContractCheck =
  | { readonly success: true; readonly data: TelemetryMessage }
  | { readonly success: false; readonly issues: readonly z.core.$ZodIssue[] };

/** Checks one packed reading's own fields, with its pack's shared fields checked once before. */
export type PackedReadingCheck = (own: Readonly<Record<string, unknown>>) => ContractCheck;

/** What every telemetry contract carries, whatever its measures. */
export interface TelemetryMessage {
  readonly contract: string;
  readonly version: number;
  readonly deviceId: string;
  readonly timestamp: string;
  readonly seq: number;
  readonly firmware: string;
  readonly hardwareGeneration: string;
  readonly origin?: ReadingOrigin;
  readonly measures: Readonly<Record<string, number>>;
}

export interface DataContract {
  readonly id: string;
  readonly version: number;
  /** `id@version`, the form manifests and messages use. */
  readonly ref: string;
  readonly description: string;
  readonly measures: MeasureSpecs;
  readonly schema: z.ZodType<TelemetryMessage>;
  /** The contract as its file states it: what a deployment compiles into its functions. */
  readonly document: ContractDocument;
  /**
   * The check of a pack's readings: `schema` on each reading as a single message (the shared
   * fields with its own), with the same issues, but the shared fields checked once for the pack.
   * Undefined when the shared fields hold a reading's own field (a default the readings may
   * override): such a pack is checked reading by reading with `schema`.
   */
  packedCheck(shared: Readonly<Record<string, unknown>>): PackedReadingCheck | undefined;
  /** A valid, realistic payload, for docs, examples and tests. */
  example(overrides?: Partial<Omit<TelemetryMessage, 'measures'>>): TelemetryMessage;
}

export function contractRef(id: string, version: number): string {
  return `${id}@${version}`;
}

export function defineTelemetryContract<M extends MeasureSpecs>(props: {
  id: string;
  version: number;
  description: string;
  measures: M;
  exampleMeasures: { [K in keyof M]: number };
  document: ContractDocument;
}): DataContract {
  const schema = telemetrySchema(props.id, props.version, props.measures);
  const contract: DataContract = {
    id: props.id,
    version: props.version,
    ref: contractRef(props.id, props.version),
    description: props.description,
    measures: props.measures,
    document: props.document,
    schema: schema as unknown as z.ZodType<TelemetryMessage>,
    packedCheck: splitCheck(schema),
    example: (overrides = {}) => ({
      contract: props.id,
      version: props.version,
      deviceId: 'pump-001',
      timestamp: '2026-01-15T08:30:00.000Z',
      seq: 0,
      firmware: '1.4.2',
      hardwareGeneration: 'gen2',
      ...overrides,
      measures: { ...props.exampleMeasures },
    }),
  };
  // A contract whose own example fails its schema is a programming error: fail at load time.
  schema.parse(contract.example());
  return contract;
}

type TelemetryObjectSchema = ReturnType<typeof telemetrySchema>;

/**
 * A strict object's issues are each about one field, or (unrecognized keys) about the object, last:
 * checking the shared fields and a reading's own apart, then ordering the issues by field, gives
 * what the whole message's check gives.
 */
function splitCheck(schema: TelemetryObjectSchema): DataContract['packedCheck'] {
  const own = { timestamp: true, seq: true, measures: true } as const satisfies Record<
    (typeof PACKED_READING_FIELDS)[number],
    true
  >;
  const sharedSchema = schema.omit(own);
  const readingSchema = schema.pick(own);
  const order = Object.keys(schema.shape);
  const rank = (issue: z.core.$ZodIssue) => {
    const field = issue.path[0];
    return typeof field === 'string' ? order.indexOf(field) : order.length;
  };
  return (shared) => {
    if (PACKED_READING_FIELDS.some((field) => Object.hasOwn(shared, field))) return undefined;
    const sharedResult = sharedSchema.safeParse(shared, { reportInput: true });
    return (reading) => {
      const result = readingSchema.safeParse(reading, { reportInput: true });
      if (sharedResult.success && result.success) {
        return { success: true, data: { ...sharedResult.data, ...result.data } as TelemetryMessage };
      }
      const issues = [...(sharedResult.error?.issues ?? []), ...(result.error?.issues ?? [])];
      // Array.prototype.sort is stable: issues of one field keep their order.
      return { success: false, issues: issues.sort((a, b) => rank(a) - rank(b)) };
    };
  };
}
