import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Sends `body` as JSON with `status`, and any further headers. */
export function replyJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'content-type': 'application/json' });
  response.end(text);
}

/**
 * Reads a request body up to `maxBytes`; past that it stops buffering and answers `undefined`, so
 * the caller can refuse with 413 instead of holding an unbounded body in memory.
 */
export function readBody(request: http.IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      resolve(size > maxBytes ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', reject);
  });
}

/** A listening server as its owner needs it: the port it got, and a close that also ends keep-alive connections. */
export function serverHandle(server: http.Server): { port: number; close(): Promise<void> } {
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
