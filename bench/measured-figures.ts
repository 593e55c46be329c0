/**
 * The figures `npm run cost` takes from benches instead of assuming them, each file written by its
 * bench's `--record` with the command, date and machine that measured it (bench/measured/).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const provenance = { measuredBy: z.string(), date: z.string(), machine: z.string() };

/** What one model server process scores a second of its own CPU, all threads (`npm run bench:inference -- --record`). */
export const inferenceFiguresSchema = z.object({
  windowsPerCpuSecond: z.number().positive(),
  devicesPerCall: z.int().min(1),
  /** What each measured window carried: history before the new readings, and new readings. */
  historyReadings: z.int().min(0),
  newReadingsPerWindow: z.int().min(1),
  ...provenance,
});

/** What an ingest invocation is billed for (`npm run bench:lambda -- --record`). */
export const lambdaFiguresSchema = z.object({
  memoryMb: z.int().min(128).max(10_240),
  readingsPerMessage: z.int().min(1),
  billedMsPerInvocation: z.number().nonnegative(),
  billedMsPerReading: z.number().positive(),
  cpuMsPerInvocation: z.number(),
  cpuMsPerReading: z.number(),
  logBytesPerReading: z.number().nonnegative(),
  dynamodbReadsPerMessage: z.number().nonnegative(),
  dynamodbReadUnitsPerMessage: z.number().nonnegative(),
  dynamodbWritesPerMessage: z.number().nonnegative(),
  dynamodbWriteKbPerMessage: z.number().nonnegative(),
  ...provenance,
});

/** A measured-figures file, checked against its schema; a bad one is refused naming the file. */
export function readFigures<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file} is not what its bench records: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
