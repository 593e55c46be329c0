import { z } from 'zod';
import {
  FileProblemsError,
  parseYamlFile,
  yamlFileStem,
  type FileProblem,
  type RawProblem,
} from '../documents/yaml-file.ts';
import { defineTelemetryContract, type DataContract, type MeasureSpec } from './contract.ts';

/** The envelope every telemetry contract shares today; a new envelope would be a new name here. */
export const TELEMETRY_ENVELOPE = 'telemetry@1';

/** Columns the stores use for the envelope and the record's identity: a measure may not take them. */
const RESERVED_COLUMNS = new Set([
  'time',
  'seq',
  'origin',
  'use_case',
  'device_id',
  'firmware',
  'hardware_generation',
  'contract',
  'measure_name',
  'received_at',
]);

const measureDocumentSchema = z.strictObject({
  unit: z.string().min(1).max(32),
  /** What a real sensor can physically report: outside it, the message is quarantined. */
  range: z.strictObject({ min: z.number(), max: z.number() }),
  description: z.string().min(1).max(500),
  /** The column in the stores. @default the measure's name in snake_case */
  column: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a store column: lower-case snake_case, 1-63 characters')
    .optional(),
  /** Whether a device may leave it out. @default false */
  optional: z.boolean().default(false),
  /** A typical value, for the contract's example message (docs, tests, `aiot contracts example`). */
  example: z.number(),
});

/**
 * A data contract as a file: `contracts/<id>.v<version>.yaml`. The file is the source; the JSON
 * Schema beside it is generated from it for device developers (`npm run contracts:generate`).
 */
export const contractDocumentSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, 'must be dotted lower-case words like "pump.telemetry"'),
  version: z.int().min(1).max(10_000),
  envelope: z.literal(TELEMETRY_ENVELOPE, {
    error: `must be "${TELEMETRY_ENVELOPE}" (deviceId, timestamp, seq, firmware, hardwareGeneration, origin): the only envelope there is`,
  }),
  description: z.string().min(1).max(1000),
  measures: z
    .record(
      z.string().regex(/^[a-z][a-zA-Z0-9]{0,62}$/, 'must be a camelCase measure name, 1-63 characters'),
      measureDocumentSchema,
    )
    .refine((measures) => Object.keys(measures).length > 0, 'a contract needs at least one measure'),
});

export type ContractDocument = z.input<typeof contractDocumentSchema>;
type ParsedContractDocument = z.output<typeof contractDocumentSchema>;

export class ContractFileError extends FileProblemsError {
  constructor(file: string, problems: readonly FileProblem[]) {
    super(file, 'data contract', problems);
    this.name = 'ContractFileError';
  }
}

/** `bearingTemperature` -> `bearing_temperature`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function contractFileName(id: string, version: number): string {
  return `${id}.v${version}.yaml`;
}

function crossCheck(document: ParsedContractDocument, fileStem: string | undefined): RawProblem[] {
  const problems: RawProblem[] = [];
  const expectedStem = `${document.id}.v${document.version}`;
  if (fileStem !== undefined && fileStem !== expectedStem) {
    problems.push({
      path: ['id'],
      message: `${document.id}@${document.version} belongs in "${expectedStem}.yaml", not "${fileStem}.yaml"`,
    });
  }
  const columns = new Map<string, string>();
  for (const [name, measure] of Object.entries(document.measures)) {
    const at = (...rest: string[]) => ['measures', name, ...rest];
    if (measure.range.min >= measure.range.max) {
      problems.push({
        path: at('range'),
        message: `min must be below max, got ${measure.range.min}..${measure.range.max}`,
      });
    } else if (measure.example < measure.range.min || measure.example > measure.range.max) {
      problems.push({
        path: at('example'),
        message: `${measure.example} is outside the range ${measure.range.min}..${measure.range.max} ${measure.unit}`,
      });
    }
    const column = measure.column ?? snakeCase(name);
    if (RESERVED_COLUMNS.has(column)) {
      problems.push({
        path: measure.column === undefined ? at() : at('column'),
        message: `column "${column}" is the stores' own (reserved: ${[...RESERVED_COLUMNS].join(', ')}); name another`,
      });
    }
    const other = columns.get(column);
    if (other !== undefined) {
      problems.push({ path: at('column'), message: `column "${column}" is ${other}'s already` });
    }
    columns.set(column, name);
  }
  return problems;
}

function toContract(document: ParsedContractDocument): DataContract {
  const measures: Record<string, MeasureSpec> = {};
  const example: Record<string, number> = {};
  for (const [name, measure] of Object.entries(document.measures)) {
    measures[name] = {
      unit: measure.unit,
      min: measure.range.min,
      max: measure.range.max,
      description: measure.description,
      column: measure.column ?? snakeCase(name),
      ...(measure.optional ? { optional: true } : {}),
    };
    example[name] = measure.example;
  }
  return defineTelemetryContract({
    id: document.id,
    version: document.version,
    description: document.description,
    measures,
    exampleMeasures: example,
    document,
  });
}

/** Parses and checks one contract file; every problem is thrown at once as a ContractFileError. */
export function parseContractFile(text: string, file: string): DataContract {
  const document = parseYamlFile(
    text,
    file,
    contractDocumentSchema,
    (parsed) => crossCheck(parsed, yamlFileStem(file)),
    (problems) => new ContractFileError(file, problems),
  );
  return toContract(document);
}

/** Parses a contract compiled into a function (`DataContract.document`), with every check of a file. */
export function parseContractDocument(document: unknown, origin: string): DataContract {
  const parsed = contractDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new ContractFileError(
      origin,
      parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      })),
    );
  }
  const problems = crossCheck(parsed.data, undefined);
  if (problems.length > 0) {
    throw new ContractFileError(
      origin,
      problems.map((p) => ({ path: p.path.join('.'), message: p.message })),
    );
  }
  return toContract(parsed.data);
}
