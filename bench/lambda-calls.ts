/**
 * The calls a function in this process makes to other services, counted as they leave it (Node's
 * HTTP client and undici diagnostics channels): by service and operation, with the bytes of each
 * request body, so a bench can say what an invocation asks of DynamoDB, the endpoint and the store.
 */
import * as diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export interface CallCount {
  calls: number;
  bytes: number;
  /** Sum over the calls of their body in whole KB, rounded up: DynamoDB's write units for a put. */
  kbUnits: number;
}

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

export class CallCounter {
  private counts = new Map<string, CallCount>();

  private readonly onHttp = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    this.count(
      String(request.getHeader('x-amz-target') ?? ''),
      request.method,
      request.path,
      Number(request.getHeader('content-length') ?? 0),
    );
  };

  private readonly onFetch = (message: unknown) => {
    const { request } = message as {
      request: { method: string; path: string; contentLength?: number | null };
    };
    this.count('', request.method, request.path, request.contentLength ?? 0);
  };

  constructor() {
    diagnostics.subscribe('http.client.request.start', this.onHttp);
    diagnostics.subscribe('undici:request:create', this.onFetch);
  }

  /** Stops counting. */
  close(): void {
    diagnostics.unsubscribe('http.client.request.start', this.onHttp);
    diagnostics.unsubscribe('undici:request:create', this.onFetch);
  }

  private count(target: string, method: string, path: string, bytes: number): void {
    const key = operationOf(target, method, path);
    const count = this.counts.get(key) ?? { calls: 0, bytes: 0, kbUnits: 0 };
    count.calls += 1;
    count.bytes += bytes;
    count.kbUnits += Math.max(1, Math.ceil(bytes / 1024));
    this.counts.set(key, count);
  }

  /** What was counted since the last take, and a fresh start. */
  take(): Map<string, CallCount> {
    const counts = this.counts;
    this.counts = new Map();
    return counts;
  }
}
