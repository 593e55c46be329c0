import * as http from 'node:http';
import type { DuckDbStore } from './duckdb-store.ts';
import { readBody, replyJson, serverHandle } from '../model/http-json.ts';
import { listen } from './listen.ts';

const MAX_SQL_BYTES = 64 * 1024;

/**
 * `POST /query` with SQL as the body answers `{columns, rows}`: how `aiot query` reaches the store
 * while the runtime holds the DuckDB file. Bound to loopback only; it is a developer tool.
 */
export async function startQueryApi(
  store: DuckDbStore,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    void (async () => {
      if (request.method !== 'POST' || request.url !== '/query') {
        replyJson(response, 404, { error: 'POST /query with SQL as the body' });
        return;
      }
      const sql = await readBody(request, MAX_SQL_BYTES);
      if (sql === undefined) {
        replyJson(response, 413, { error: `SQL above ${MAX_SQL_BYTES} bytes` });
        return;
      }
      try {
        replyJson(response, 200, await store.query(sql));
      } catch (error) {
        replyJson(response, 400, { error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  await listen(server, port, host, '--api-port');
  return serverHandle(server);
}
