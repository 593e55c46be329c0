import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse';
import type { SourceReading } from '../core/edge/preprocessor.ts';
import type { DeviceSimulator } from '../core/simulation/device-simulator.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';

/** What a source yields: a reading to preprocess, or input it could not even read as one. */
export type SourceItem =
  | { readonly reading: SourceReading }
  | { readonly unreadable: { readonly raw: string; readonly reasons: readonly string[] } };

/** A source of readings for one device; ends when the input does or when `signal` aborts. */
export type ReadingSource = AsyncIterable<SourceItem>;

/** Sleeps until `start + index / rate` seconds, so a paced source does not drift. */
async function pace(start: number, index: number, rate: number, signal?: AbortSignal): Promise<boolean> {
  const due = start + (index * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) {
    try {
      await sleep(wait, undefined, { signal });
    } catch {
      return false;
    }
  }
  return !signal?.aborted;
}

export interface SimulatorSourceOptions {
  readonly thing: string;
  /** Readings per second. */
  readonly rate: number;
  /** The device's sensors. @default the pump simulator, seeded with `seed` */
  readonly simulator?: Pick<DeviceSimulator, 'next'>;
  readonly seed?: number;
  /** Stop after this many readings. @default unbounded */
  readonly count?: number;
  /**
   * Simulated time between readings: above `1000 / rate`, a time-lapse (hours of a slow process
   * in seconds), stamped so the last reading of `count` is about now. @default 1000 / rate (real time)
   */
  readonly stepMs?: number;
  /** With a time-lapse, the simulated time of the first reading. @default so that the last is about now */
  readonly startAt?: number;
  readonly signal?: AbortSignal;
}

/** A simulated device's sensors (the use case's simulator), as a paced source. */
export async function* simulatorSource(options: SimulatorSourceOptions): ReadingSource {
  const simulator =
    options.simulator ?? pumpSensors(new PumpSimulator({ thing: options.thing, seed: options.seed ?? 1 }));
  const realTimeStep = 1000 / options.rate;
  const stepMs = options.stepMs ?? realTimeStep;
  if (!(stepMs > 0)) throw new Error(`stepMs must be above 0, got ${stepMs}`);
  if (stepMs > realTimeStep && options.count === undefined)
    throw new Error('a time-lapse (stepMs above 1000 / rate) needs a count: it would run into the future');
  const start = Date.now();
  // A time-lapse starts in the past so that it ends now; real time starts now.
  const firstTime =
    stepMs > realTimeStep ? (options.startAt ?? start - Math.round((options.count ?? 0) * stepMs)) : start;
  for (let index = 0; index < (options.count ?? Infinity); index++) {
    if (!(await pace(start, index, options.rate, options.signal))) return;
    // The scheduled time, not the wake-up time: readings caught up after a stall keep distinct timestamps.
    const time = firstTime + Math.round(index * stepMs);
    yield { reading: { timestamp: time, measures: simulator.next(time, stepMs / 1000) } };
  }
}

function pumpSensors(pump: PumpSimulator): Pick<DeviceSimulator, 'next'> {
  return { next: (time, dt) => pump.next(time, dt).measures };
}

/** SKAB's columns (https://github.com/waico/SKAB) as `pump.telemetry` measures. */
export const SKAB_COLUMNS: Readonly<Record<string, string>> = {
  vibrationRmsX: 'Accelerometer1RMS',
  vibrationRmsY: 'Accelerometer2RMS',
  motorCurrent: 'Current',
  outletPressure: 'Pressure',
  motorTemperature: 'Temperature',
  fluidTemperature: 'Thermocouple',
  supplyVoltage: 'Voltage',
  flowRate: 'Volume Flow RateRMS',
};

export interface CsvSourceOptions {
  readonly file: string;
  /** Contract measure name to CSV column. */
  readonly columns: Readonly<Record<string, string>>;
  /** Rows per second. @default 1 */
  readonly rate?: number;
  /**
   * `now`: stamp each row with the clock as it is replayed (history played as live);
   * `file`: keep the row's own time from `timeColumn` (backfill);
   * `shift`: keep the rows' spacing but move them so the last row is stamped `endAt` (a recording
   * replayed faster than real time, as if it had just been taken). @default 'now'
   */
  readonly time?: 'now' | 'file' | 'shift';
  /** With `time: 'shift'`, the time the last row gets. @default the start of the replay */
  readonly endAt?: number;
  /** Column with the row's time; a time without a zone is read as UTC. @default 'datetime' */
  readonly timeColumn?: string;
  readonly signal?: AbortSignal;
}

function fileTime(text: string): string {
  const isoish = text.includes('T') ? text : text.replace(' ', 'T');
  return /[zZ]|[+-]\d\d:?\d\d$/.test(isoish) ? isoish : `${isoish}Z`;
}

/**
 * Replays a CSV (header row, `,` or `;` separated) at a fixed rate. A cell that is not a number
 * is passed on as text, so the contract check names it instead of the reading vanishing.
 */
export async function* csvSource(options: CsvSourceOptions): ReadingSource {
  const rate = options.rate ?? 1;
  if (!(rate > 0)) throw new Error(`rate must be above 0 rows per second, got ${rate}`);
  const firstLine = await readFirstLine(options.file);
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const header = firstLine.split(delimiter).map((cell) => cell.trim());
  const missing = Object.values(options.columns).filter((column) => !header.includes(column));
  const timeColumn = options.timeColumn ?? 'datetime';
  const fileTimes = options.time === 'file' || options.time === 'shift';
  if (fileTimes && !header.includes(timeColumn)) missing.push(timeColumn);
  if (missing.length > 0) {
    throw new Error(
      `${options.file}: no column ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${header.join(', ')})`,
    );
  }
  const shift =
    options.time === 'shift'
      ? await shiftOf(options.file, delimiter, timeColumn, options.endAt ?? Date.now())
      : 0;
  const parser = createReadStream(options.file).pipe(
    parse({ delimiter, columns: true, trim: true, skip_empty_lines: true, relax_column_count: true }),
  );
  const start = Date.now();
  let index = 0;
  try {
    for await (const row of parser as AsyncIterable<Record<string, string | undefined>>) {
      if (!(await pace(start, index++, rate, options.signal))) return;
      const measures: Record<string, unknown> = {};
      for (const [measure, column] of Object.entries(options.columns)) {
        const cell = row[column];
        const value = cell === undefined || cell === '' ? undefined : Number(cell);
        measures[measure] = value === undefined || Number.isNaN(value) ? cell : value;
      }
      const timeCell = row[timeColumn];
      yield {
        reading: {
          timestamp:
            options.time === 'shift' && timeCell
              ? Date.parse(fileTime(timeCell)) + shift
              : options.time === 'file' && timeCell
                ? fileTime(timeCell)
                : Date.now(),
          measures,
        },
      };
    }
  } finally {
    parser.destroy();
  }
}

/** How far to move a file's times so that its last row lands on `endAt`. */
async function shiftOf(file: string, delimiter: string, timeColumn: string, endAt: number): Promise<number> {
  let last: string | undefined;
  const parser = createReadStream(file).pipe(
    parse({ delimiter, columns: true, trim: true, skip_empty_lines: true, relax_column_count: true }),
  );
  for await (const row of parser as AsyncIterable<Record<string, string | undefined>>)
    last = row[timeColumn] ?? last;
  const lastTime = last === undefined ? Number.NaN : Date.parse(fileTime(last));
  if (Number.isNaN(lastTime))
    throw new Error(`${file}: no readable time in column "${timeColumn}" to shift from`);
  return endAt - lastTime;
}

async function readFirstLine(file: string): Promise<string> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
  }
  throw new Error(`${file}: is empty, expected a header row`);
}

/**
 * JSON lines, one reading per line: `{"timestamp": ..., "measures": {...}}`, a whole contract
 * message (its envelope is replaced by the agent's), or a bare object of measures.
 */
export async function* jsonLinesSource(input: Readable): ReadingSource {
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      yield { unreadable: { raw: line, reasons: [`not JSON: ${(error as Error).message}`] } };
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      yield { unreadable: { raw: line, reasons: ['must be a JSON object'] } };
      continue;
    }
    const { timestamp, measures, ...rest } = parsed as Record<string, unknown>;
    if (timestamp !== undefined && typeof timestamp !== 'string' && typeof timestamp !== 'number') {
      yield {
        unreadable: { raw: line, reasons: ['timestamp: must be ISO 8601 text or epoch milliseconds'] },
      };
      continue;
    }
    const time = timestamp === undefined ? {} : { timestamp };
    if (measures === undefined) {
      yield { reading: { ...time, measures: rest } };
      continue;
    }
    if (typeof measures !== 'object' || measures === null || Array.isArray(measures)) {
      yield { unreadable: { raw: line, reasons: ['measures: must be an object of numbers'] } };
      continue;
    }
    yield { reading: { ...time, measures: measures as Record<string, unknown> } };
  }
}
