import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/**
 * Where an InfluxDB database lives and how to reach it. The v1 compatibility API (`/write`,
 * `/query`) is served by InfluxDB 1.x, by InfluxDB 2 (Timestream for InfluxDB: a bucket maps to a
 * database by its name) and by InfluxDB 3, so one adapter serves all three.
 */
export interface InfluxTarget {
  /** Base URL, e.g. `https://<id>.<region>.timestream-influxdb.amazonaws.com:8086`. */
  readonly url: string;
  /** Database (InfluxDB 1) or bucket (InfluxDB 2 and 3) name. */
  readonly database: string;
  /**
   * An API token, sent as `Authorization: Token …`, or where to get it (a cached secret, so a
   * rotated token is picked up); none for a server without authentication.
   */
  readonly token?: string | (() => Promise<string>);
}

export interface InfluxHttpOptions {
  /** Attempts per request before a 429 or 5xx is given up on. @default 3 */
  readonly attempts?: number;
  /** First back-off delay; doubled on each retry, with jitter. @default 200 */
  readonly baseDelayMs?: number;
  /** Per-request timeout. @default 5000 */
  readonly timeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** The server could not be reached or kept failing (timeouts, 429, 5xx): the data must come back later. */
export class InfluxUnavailable extends Error {
  override readonly name = 'InfluxUnavailable';
}

/** The server refused the request itself (400 and other 4xx): sending it again gets the same answer. */
export class InfluxRefused extends Error {
  override readonly name = 'InfluxRefused';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const seriesSchema = z.object({
  name: z.string(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))).optional(),
});
const queryAnswerSchema = z.object({
  results: z.array(
    z.object({
      statement_id: z.number(),
      series: z.array(seriesSchema).optional(),
      error: z.string().optional(),
    }),
  ),
});

/** One row of a query answer: column to value, the series' GROUP BY tags included. */
export type InfluxRow = Record<string, string | number | boolean | null>;

/** Measurement, tag keys and field keys this project writes: nothing a device sends becomes one. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkInfluxName(name: string, what: string): string {
  if (!NAME.test(name)) throw new Error(`${what} "${name}" is not a name the InfluxDB adapter writes`);
  return name;
}

/** Escapes a tag value of line protocol (commas, equal signs, spaces). */
export function tagValue(text: string): string {
  return text.replace(/[,= ]/g, (c) => `\\${c}`);
}

/** A string field value of line protocol. */
export function stringField(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A text value as an InfluxQL string literal. */
export function influxQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** An epoch-milliseconds time as an InfluxQL literal (nanoseconds). */
export function influxTime(ms: number): string {
  return `${BigInt(Math.floor(ms)) * 1_000_000n}`;
}

/**
 * The HTTP conversation with InfluxDB: line-protocol writes and InfluxQL reads, with back-off on
 * 429 and 5xx (the server asks to slow down or is briefly unavailable) and none on other 4xx.
 */
export class InfluxHttp {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetch: typeof globalThis.fetch;
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(
    readonly target: InfluxTarget,
    options: InfluxHttpOptions = {},
  ) {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      throw new Error(`InfluxDB URL "${target.url}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`InfluxDB URL "${target.url}" must be http or https`);
    if (!target.database) throw new Error('InfluxDB database (bucket) name is empty');
    this.attempts = options.attempts ?? 3;
    if (!Number.isInteger(this.attempts) || this.attempts < 1)
      throw new Error(`attempts must be a whole number of at least 1, got ${this.attempts}`);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /** Writes lines (millisecond times). Throws InfluxRefused on a 4xx, InfluxUnavailable when retries run out. */
  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.request(
      `/write?${new URLSearchParams({ db: this.target.database, precision: 'ms' }).toString()}`,
      lines.join('\n'),
    );
  }

  /**
   * Runs InfluxQL statements in one request and answers each statement's rows (times in epoch ms).
   * A statement's error is thrown: this project's queries are its own, so one failing is a bug.
   */
  async query(statements: readonly string[]): Promise<InfluxRow[][]> {
    if (statements.length === 0) return [];
    const body = new URLSearchParams({ db: this.target.database, epoch: 'ms', q: statements.join(';\n') });
    const text = await this.request('/query', body);
    const parsed = queryAnswerSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new InfluxUnavailable(`InfluxDB answered a query with an unexpected shape`);
    const answers: InfluxRow[][] = statements.map(() => []);
    for (const result of parsed.data.results) {
      if (result.error) throw new Error(`InfluxDB refused statement ${result.statement_id}: ${result.error}`);
      const rows = answers[result.statement_id];
      if (!rows) continue;
      for (const series of result.series ?? []) {
        for (const values of series.values ?? []) {
          const row: InfluxRow = { ...series.tags };
          series.columns.forEach((column, index) => (row[column] = values[index] ?? null));
          rows.push(row);
        }
      }
    }
    return answers;
  }

  private async request(path: string, body: string | URLSearchParams): Promise<string> {
    const headers: Record<string, string> = {
      'Content-Type':
        typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/x-www-form-urlencoded',
    };
    const token = typeof this.target.token === 'function' ? await this.target.token() : this.target.token;
    if (token) headers.Authorization = `Token ${token}`;
    const url = new URL(path, this.target.url);
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) {
        const delay = this.baseDelayMs * 2 ** (attempt - 2);
        await this.sleep(delay / 2 + Math.random() * (delay / 2));
      }
      let response: Response;
      try {
        response = await this.fetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        lastProblem = `InfluxDB at ${url.origin} unreachable: ${error instanceof Error ? error.message : String(error)}`;
        continue;
      }
      const text = await response.text();
      if (response.ok) return text;
      const problem = `InfluxDB answered ${response.status}: ${errorText(text)}`;
      if (response.status === 429 || response.status >= 500) {
        lastProblem = problem;
        continue;
      }
      throw new InfluxRefused(problem, response.status);
    }
    throw new InfluxUnavailable(`${lastProblem} (after ${this.attempts} attempts)`);
  }
}

function errorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const record = parsed as Record<string, unknown>;
      const message = record.error ?? record.message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Not JSON: a proxy's page, shown cut short below.
  }
  return body.slice(0, 300) || '(no body)';
}
