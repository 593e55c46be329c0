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
