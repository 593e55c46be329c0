import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { invoke, InvocationError } from './invocations.ts';

/** SageMaker's limit for a real-time request payload. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface ModelServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The `serve` entry point: GET /ping answers 200 once the model is loaded; POST /invocations
 * scores a JSON window (see model/invocations.ts and docs/model.md).
 */
export async function startModelServer(
  model: AnomalyModel,
  options: { port: number; host?: string },
): Promise<ModelServer> {
  const server = http.createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && request.url === '/ping') {
      reply(200, { status: 'ok', modelVersion: model.modelVersion });
      return;
    }
    if (request.method !== 'POST' || request.url !== '/invocations') {
      reply(404, { error: 'GET /ping or POST /invocations' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reply(413, { error: `request body above ${MAX_BODY_BYTES} bytes` });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reply(400, { error: 'body is not JSON' });
        return;
      }
      try {
        reply(200, invoke(model, body));
      } catch (error) {
        if (error instanceof InvocationError) reply(400, { error: error.message });
        else reply(500, { error: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  // Keep-alive longer than SageMaker's front end, which reuses connections.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      resolve();
    });
  });
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
