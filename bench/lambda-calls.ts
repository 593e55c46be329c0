/**
 * The calls a function in this process makes to other services, counted as they leave it (Node's
 * HTTP client and undici diagnostics channels): by service and operation, with the bytes of each
 * request body and of the answer (node:http only), so a bench can say what an invocation asks of
 * DynamoDB, the endpoint and the store.
 */
import * as diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

export interface CallCount {
  calls: number;
  bytes: number;
  /** Sum over the calls of their body in whole KB, rounded up: DynamoDB's write units for a put. */
  kbUnits: number;
  /** Bytes of the answers' bodies (node:http calls: the SDK's). */
  responseBytes: number;
  /**
   * Sum over the answers of their body in 4 KB units, rounded up: about DynamoDB's read units for a
   * strongly consistent read of the item it returns (the answer adds a little type notation).
   */
  responseUnits4k: number;
}

export const emptyCount = (): CallCount => ({
  calls: 0,
  bytes: 0,
  kbUnits: 0,
  responseBytes: 0,
  responseUnits4k: 0,
});

/** Names a request `service operation` from what the SDK and the InfluxDB client send. */
function operationOf(target: string, method: string, path: string): string {
  if (target) {
    const [service = '', operation = ''] = target.split('.');
    const name = service.startsWith('DynamoDB')
      ? 'DynamoDB'
      : service === 'AWSEvents'
        ? 'EventBridge'
        : service === 'AmazonSQS'
          ? 'SQS'
          : service === 'secretsmanager'
            ? 'Secrets Manager'
            : service;
    return `${name} ${operation}`;
  }
  if (/^\/endpoints\/[^/]+\/invocations/.test(path)) return 'SageMaker InvokeEndpoint';
  if (/\/write(\?|$)/.test(path)) return 'InfluxDB write';
  if (/\/query(\?|$)/.test(path)) return 'InfluxDB query';
  return `${method} ${path.split('?')[0]}`;
}

/** One call more, with its request body's bytes. */
function sent(count: CallCount, bytes: number): void {
  count.calls += 1;
  count.bytes += bytes;
  count.kbUnits += Math.max(1, Math.ceil(bytes / 1024));
}

export class CallCounter {
  private counts = new Map<string, CallCount>();

  private readonly onHttp = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    sent(this.countOf(request), Number(request.getHeader('content-length') ?? 0));
  };

  private readonly onHttpAnswer = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    const bytes = Number(response.headers['content-length'] ?? 0);
    const count = this.countOf(request);
    count.responseBytes += bytes;
    count.responseUnits4k += Math.max(1, Math.ceil(bytes / 4096));
  };

  private readonly onFetch = (message: unknown) => {
    const { request } = message as {
      request: { method: string; path: string; contentLength?: number | null };
    };
    sent(this.counted(operationOf('', request.method, request.path)), request.contentLength ?? 0);
  };

  constructor() {
    diagnostics.subscribe('http.client.request.start', this.onHttp);
    diagnostics.subscribe('http.client.response.finish', this.onHttpAnswer);
    diagnostics.subscribe('undici:request:create', this.onFetch);
  }

  /** Stops counting. */
  close(): void {
    diagnostics.unsubscribe('http.client.request.start', this.onHttp);
    diagnostics.unsubscribe('http.client.response.finish', this.onHttpAnswer);
    diagnostics.unsubscribe('undici:request:create', this.onFetch);
  }

  private countOf(request: ClientRequest): CallCount {
    return this.counted(
      operationOf(String(request.getHeader('x-amz-target') ?? ''), request.method, request.path),
    );
  }

  private counted(operation: string): CallCount {
    const found = this.counts.get(operation);
    if (found) return found;
    const count = emptyCount();
    this.counts.set(operation, count);
    return count;
  }

  /** What was counted since the last take, and a fresh start. */
  take(): Map<string, CallCount> {
    const counts = this.counts;
    this.counts = new Map();
    return counts;
  }
}
