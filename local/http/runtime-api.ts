import * as http from 'node:http';
import type { DuckDbStore } from '../store/duckdb-store.ts';
import { QueryRefusedError } from '../store/read-only-query.ts';
import { readBody, replyJson, serverHandle } from '../../model/http-json.ts';
import { listen } from './listen.ts';
import { OPERATOR_ROUTES, type OperatorApi } from '../../core/operators/api.ts';
import { localOperatorRequest } from './operations.ts';
import { z } from 'zod';
import { issuesText } from '../../core/contracts/reasons.ts';
import type { DriftReport } from '../../core/drift/ports.ts';
import type { ReplayFilter, ReplayReport } from '../../core/ingest/quarantine-replay.ts';
import { UnknownUseCase } from '../../core/usecase/unknown-use-case.ts';

const MAX_SQL_BYTES = 64 * 1024;
const MAX_JSON_BYTES = 64 * 1024;
/** The content type of decisions: like SQL's, one a plain HTML form cannot send. */
export const JSON_CONTENT_TYPE = 'application/json';
/** The content type `aiot query` sends. Not one a plain HTML form can send, so a browser must ask first (CORS), and is refused. */
export const SQL_CONTENT_TYPE = 'application/sql';

export interface RuntimeApiOptions {
  /** @default 30000 */
  readonly queryTimeoutMs?: number;
  /** @default 10000 */
  readonly maxRows?: number;
  /** Alerts, devices, baselines and silences; absent when the runtime does not score (503). */
  readonly operations?: OperatorApi;
  /** Runs a use case's drift checks on demand (`POST /drift/runs`). */
  readonly drift?: { run(useCase: string): Promise<DriftReport> };
  /** Re-validates quarantined messages and stores those that pass (`POST /quarantine/replays`). */
  readonly quarantine?: { replay(filter: ReplayFilter): Promise<ReplayReport> };
  /** Called with an unexpected failure of an operator route (answered 500). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Why a request may not reach the store, or undefined when it may. Only local programs may ask:
 * the Host must name the loopback address and port (a DNS-rebinding page names its own host),
 * and a request with an Origin comes from a web page.
 */
export function refusalOf(
  request: http.IncomingMessage,
  port: number,
): { status: number; error: string } | undefined {
  const host = request.headers.host ?? '';
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!allowedHosts.includes(host.toLowerCase()))
    return { status: 403, error: `Host "${host}" is not this loopback API (${allowedHosts.join(', ')})` };
  if (request.headers.origin !== undefined)
    return { status: 403, error: `requests from web pages are refused (Origin "${request.headers.origin}")` };
  if (request.method === 'POST') {
    const expected = request.url === '/query' ? SQL_CONTENT_TYPE : JSON_CONTENT_TYPE;
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== expected)
      return { status: 415, error: `content-type must be ${expected}, got "${type ?? ''}"` };
  } else if (request.method !== 'GET') {
    return {
      status: 405,
      error: `${request.method ?? ''} is not served: GET to read, POST to query or decide`,
    };
  }
  return undefined;
}

const ROUTES = ['POST /query (SQL)', 'POST /drift/runs', 'POST /quarantine/replays', ...OPERATOR_ROUTES].join(
  ', ',
);

/**
 * The runtime's API, bound to loopback for local programs only (the CLI, the console's server).
 * `POST /query` with one SQL statement as the body answers `{columns, rows, truncated?}`: how
 * `aiot query` reaches the store while the runtime holds the DuckDB file. It is read-only: the
 * store refuses anything but SELECT and EXPLAIN, runs it on its own connection (ingest never waits
 * for it) with no file access, a time limit and a row limit. The operator routes
 * (core/operators/api.ts) read alerts and devices and take typed decisions, each naming its actor.
 */
export async function startRuntimeApi(
  store: DuckDbStore,
  host: string,
  port: number,
  options: RuntimeApiOptions = {},
): Promise<{ port: number; close(): Promise<void> }> {
  let boundPort = port;
  const replayState = { replayRunning: false };
  const server = http.createServer((request, response) => {
    void (async () => {
      const refusal = refusalOf(request, boundPort);
      if (refusal) {
        request.resume();
        replyJson(response, refusal.status, { error: refusal.error });
        return;
      }
      const url = new URL(request.url ?? '/', 'http://runtime');
      if (url.pathname === '/query') await answerQuery(store, request, response, options);
      else await answerRoute(request, response, url, options, replayState);
    })().catch(() => {
      // The client went away mid-answer: nothing to tell it.
      response.destroy();
    });
  });
  await listen(server, port, host, '--api-port');
  const handle = serverHandle(server);
  boundPort = handle.port;
  return handle;
}

/** `POST /query`: one read-only statement, within the API's limits. */
async function answerQuery(
  store: DuckDbStore,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  options: RuntimeApiOptions,
): Promise<void> {
  if (request.method !== 'POST') {
    request.resume();
    replyJson(response, 405, { error: 'POST /query with SQL as the body' });
    return;
  }
  const sql = await readBody(request, MAX_SQL_BYTES);
  if (sql === undefined) {
    replyJson(response, 413, { error: `SQL above ${MAX_SQL_BYTES} bytes` });
    return;
  }
  try {
    replyJson(
      response,
      200,
      await store.query(sql, {
        ...(options.queryTimeoutMs === undefined ? {} : { timeoutMs: options.queryTimeoutMs }),
        ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      }),
    );
  } catch (error) {
    const refused = error instanceof QueryRefusedError;
    replyJson(response, refused ? 400 : 500, {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Every route but `/query`: drift runs, quarantine replays, and the operators' routes. */
async function answerRoute(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: URL,
  options: RuntimeApiOptions,
  replayState: { replayRunning: boolean },
): Promise<void> {
  const body = request.method === 'POST' ? await readBody(request, MAX_JSON_BYTES) : '';
  if (body === undefined) {
    replyJson(response, 413, { error: `request body above ${MAX_JSON_BYTES} bytes` });
    return;
  }
  if (url.pathname === '/drift/runs' && request.method === 'POST' && options.drift) {
    await runDrift(options.drift, body, response);
    return;
  }
  if (url.pathname === '/quarantine/replays' && request.method === 'POST' && options.quarantine) {
    await runReplay(options.quarantine, body, response, replayState);
    return;
  }
  if (!options.operations) {
    replyJson(response, 503, { error: 'this runtime does not score (started with --no-model): no alerts' });
    return;
  }
  const operatorRequest = localOperatorRequest(request.method ?? 'GET', url, body);
  let reply;
  try {
    reply = 'status' in operatorRequest ? operatorRequest : await options.operations.handle(operatorRequest);
  } catch (error) {
    options.onError?.(error);
    replyJson(response, 500, { error: error instanceof Error ? error.message : String(error) });
    return;
  }
  if (reply) replyJson(response, reply.status, reply.body);
  else replyJson(response, 404, { error: `no ${request.method ?? ''} ${url.pathname}: ${ROUTES}` });
}

const replayRequestSchema = z.strictObject({
  useCase: z.string().min(1).max(63).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  reason: z.string().min(1).max(200).optional(),
});

/**
 * `POST /quarantine/replays` with `{"useCase"?, "since"? (ISO 8601), "reason"?}`: one replay at a
 * time (409 while one runs), answered with its report.
 */
async function runReplay(
  quarantine: NonNullable<RuntimeApiOptions['quarantine']>,
  body: string,
  response: http.ServerResponse,
  state: { replayRunning: boolean },
): Promise<void> {
  let json: unknown;
  try {
    json = body === '' ? {} : JSON.parse(body);
  } catch {
    replyJson(response, 400, { error: 'the body must be JSON: {"useCase"?, "since"?, "reason"?}' });
    return;
  }
  const parsed = replayRequestSchema.safeParse(json);
  if (!parsed.success) {
    replyJson(response, 400, { error: issuesText(parsed.error.issues) });
    return;
  }
  if (state.replayRunning) {
    replyJson(response, 409, { error: 'a quarantine replay is already running; run it again when it ends' });
    return;
  }
  state.replayRunning = true;
  try {
    const { useCase, since, reason } = parsed.data;
    replyJson(
      response,
      200,
      await quarantine.replay({
        ...(useCase === undefined ? {} : { useCase }),
        ...(since === undefined ? {} : { since: Date.parse(since) }),
        ...(reason === undefined ? {} : { reason }),
      }),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    replyJson(response, error instanceof UnknownUseCase ? 404 : 500, { error: message });
  } finally {
    state.replayRunning = false;
  }
}

/** `POST /drift/runs` with `{"useCase": "<id>"}`: the use case's drift checks, now, and their report. */
async function runDrift(
  drift: NonNullable<RuntimeApiOptions['drift']>,
  body: string,
  response: http.ServerResponse,
): Promise<void> {
  let useCase: unknown;
  try {
    useCase = (JSON.parse(body) as { useCase?: unknown }).useCase;
  } catch {
    replyJson(response, 400, { error: 'the body must be JSON: {"useCase": "<id>"}' });
    return;
  }
  if (typeof useCase !== 'string' || useCase === '') {
    replyJson(response, 400, { error: 'useCase: name the use case to check, {"useCase": "<id>"}' });
    return;
  }
  try {
    replyJson(response, 200, await drift.run(useCase));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    replyJson(response, error instanceof UnknownUseCase ? 404 : 500, { error: message });
  }
}
