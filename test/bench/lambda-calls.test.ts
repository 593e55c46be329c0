import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallCounter } from '../../bench/lambda-calls.ts';

/** bench:lambda tells an invocation's calls apart as they leave the process. */
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    request.resume();
    const body = request.headers['x-amz-target'] === 'DynamoDB_20120810.GetItem' ? 'x'.repeat(5000) : '{}';
    request.on('end', () => response.writeHead(200, { 'content-length': body.length }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    request.on('response', (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('CallCounter', () => {
  it('GIVEN SDK calls (node:http) and InfluxDB calls (fetch) THEN each is counted by service and operation with its body bytes', async () => {
    const counter = new CallCounter();
    await post('/', 'x'.repeat(1500), { 'x-amz-target': 'DynamoDB_20120810.PutItem' });
    await post('/', '{}', { 'x-amz-target': 'DynamoDB_20120810.GetItem' });
    await post('/', '{}', { 'x-amz-target': 'DynamoDB_20120810.GetItem' });
    await post('/endpoints/pump/invocations', '{"windows":[]}');
    await fetch(`${base}/api/v2/write?bucket=b`, { method: 'POST', body: 'm v=1' });

    const counts = counter.take();

    expect(Object.fromEntries(counts)).toEqual({
      // 1,500 bytes: two 1 KB write units.
      'DynamoDB PutItem': { calls: 1, bytes: 1500, kbUnits: 2, responseBytes: 2, responseUnits4k: 1 },
      // Answers of 5,000 bytes: two 4 KB read units each.
      'DynamoDB GetItem': { calls: 2, bytes: 4, kbUnits: 2, responseBytes: 10_000, responseUnits4k: 4 },
      'SageMaker InvokeEndpoint': { calls: 1, bytes: 14, kbUnits: 1, responseBytes: 2, responseUnits4k: 1 },
      // fetch's answers are not counted (the SDK's are).
      'InfluxDB write': { calls: 1, bytes: 5, kbUnits: 1, responseBytes: 0, responseUnits4k: 0 },
    });
    // A take starts afresh; a closed counter counts nothing more.
    expect(counter.take().size).toBe(0);
    counter.close();
    await post('/', '{}', { 'x-amz-target': 'DynamoDB_20120810.GetItem' });
    expect(counter.take().size).toBe(0);
  });
});
