import * as http from 'node:http';
import { QueryRefusedError, type DuckDbStore } from './duckdb-store.ts';
import { readBody, replyJson, serverHandle } from '../model/http-json.ts';
import { listen } from './listen.ts';

const MAX_SQL_BYTES = 64 * 1024;
/** The content type `aiot query` sends. Not one a plain HTML form can send, so a browser must ask first (CORS), and is refused. */
export const SQL_CONTENT_TYPE = 'application/sql';

export interface QueryApiOptions {
  /** @default 30000 */
  readonly queryTimeoutMs?: number;
  /** @default 10000 */
  readonly maxRows?: number;
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
  if (request.method !== 'POST' || request.url !== '/query')
    return { status: 404, error: 'POST /query with SQL as the body' };
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== SQL_CONTENT_TYPE)
    return { status: 415, error: `content-type must be ${SQL_CONTENT_TYPE}, got "${type ?? ''}"` };
  return undefined;
}

/**
 * `POST /query` with one SQL statement as the body answers `{columns, rows, truncated?}`: how
 * `aiot query` reaches the store while the runtime holds the DuckDB file. Bound to loopback, for
 * local programs only, and read-only: the store refuses anything but SELECT and EXPLAIN, runs it
 * on its own connection (ingest never waits for it) with no file access, a time limit and a row
 * limit.
 */
export async function startQueryApi(
  store: DuckDbStore,
  host: string,
  port: number,
  options: QueryApiOptions = {},
): Promise<{ port: number; close(): Promise<void> }> {
  let boundPort = port;
  const server = http.createServer((request, response) => {
    void (async () => {
      const refusal = refusalOf(request, boundPort);
      if (refusal) {
        request.resume();
        replyJson(response, refusal.status, { error: refusal.error });
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
