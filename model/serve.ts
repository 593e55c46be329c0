import * as http from 'node:http';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { readBody, replyJson, serverHandle } from './http-json.ts';
import { invokeBatch, isBatchRequest } from './batch-invocations.ts';
import { describeModel, describeRequestSchema, invoke, InvocationError } from './invocations.ts';

/** SageMaker's limit for a real-time request payload. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface ModelServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The `serve` entry point: GET /ping answers 200 once the model is loaded; POST /invocations
 * scores a JSON window (see model/invocations.ts and docs/model.md).
 */
export async function startModelServer(
  model: AnomalyModel | (() => AnomalyModel),
  options: { port: number; host?: string },
): Promise<ModelServer> {
  // A function gives the live model per request: how the local runtime swaps in an approved version.
  const live = typeof model === 'function' ? model : () => model;
  const server = http.createServer((request, response) => {
    void handle(live(), request, response);
  });
  // Keep-alive longer than SageMaker's front end, which reuses connections.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      resolve();
    });
  });
  return serverHandle(server);
}

async function handle(model: AnomalyModel, request: http.IncomingMessage, response: http.ServerResponse) {
  const arrived = performance.now();
  // The server's own share of the latency (W3C Server-Timing): reading, parsing, scoring, so a
  // caller can tell it from the network's and its own.
  const reply = (status: number, body: unknown) => {
    replyJson(response, status, body, {
      'server-timing': `app;dur=${(performance.now() - arrived).toFixed(2)}`,
    });
  };
  if (request.method === 'GET' && request.url === '/ping') {
    reply(200, { status: 'ok', modelVersion: model.modelVersion });
    return;
  }
  if (request.method !== 'POST' || request.url !== '/invocations') {
    reply(404, { error: 'GET /ping or POST /invocations' });
    return;
  }
  const text = await readBody(request, MAX_BODY_BYTES);
  if (text === undefined) {
    reply(413, { error: `request body above ${MAX_BODY_BYTES} bytes` });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    reply(400, { error: 'body is not JSON' });
    return;
  }
  let answer: unknown;
  try {
    answer = describeRequestSchema.safeParse(body).success
      ? describeModel(model)
      : isBatchRequest(body)
        ? invokeBatch(model, body)
        : invoke(model, body);
  } catch (error) {
    if (error instanceof InvocationError) reply(error.status, { error: error.message });
    else reply(500, { error: error instanceof Error ? error.message : String(error) });
    return;
  }
  reply(200, answer);
}
