import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DuckDbStore } from './duckdb-store.ts';
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
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/query') {
      reply(404, { error: 'POST /query with SQL as the body' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SQL_BYTES) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      store.query(Buffer.concat(chunks).toString('utf8')).then(
        (result) => {
          reply(200, result);
        },
        (error: unknown) => {
          reply(400, { error: error instanceof Error ? error.message : String(error) });
        },
      );
    });
  });
  await listen(server, port, host, '--api-port');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
