import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer } from '../../local/http/console-server.ts';
import { buildConsole } from '../../tools/console-bundle.ts';

/** A stand-in for the runtime's API that records what reaches it. */
const received: { method: string; url: string; body: string; origin: string | undefined }[] = [];
let runtimeApi: http.Server;
let console_: Awaited<ReturnType<typeof startConsoleServer>>;
let base: string;
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  runtimeApi = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        body,
        origin: request.headers.origin,
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => runtimeApi.listen(0, '127.0.0.1', resolve));
  files = await buildConsole();
  console_ = await startConsoleServer({
    files,
    apiPort: (runtimeApi.address() as AddressInfo).port,
    actor: { name: 'olu', role: 'operator' },
    port: 0,
  });
  base = `http://127.0.0.1:${console_.port}`;
});

afterAll(async () => {
  await console_.close();
  runtimeApi.closeAllConnections();
  await new Promise((resolve) => runtimeApi.close(resolve));
});

/** Raw HTTP, so the test controls Host and Origin as a hostile page or client would. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: console_.port, method, path, headers },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('local console server', () => {
  it('GIVEN the browser on this machine WHEN it loads the console THEN it gets the page with a strict content security policy', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await (await fetch(`${base}/config.json`)).json()).toEqual({ mode: 'local' });
    expect((await fetch(`${base}/main.js`)).headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/../etc/passwd`)).status).toBe(404);
  });

  it('GIVEN a decision from the page WHEN it names another actor THEN the runtime gets the console user instead', async () => {
    received.length = 0;
    const reply = await fetch(`${base}/api/alerts/a-1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ actor: { name: 'root', role: 'system' }, decision: { action: 'acknowledge' } }),
    });
    expect(reply.status).toBe(200);
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/alerts/a-1/decisions',
        body: JSON.stringify({
          actor: { name: 'olu', role: 'operator' },
          decision: { action: 'acknowledge' },
        }),
        origin: undefined,
      },
    ]);
    expect(await (await fetch(`${base}/api/session`)).json()).toEqual({
      actor: { name: 'olu', role: 'operator' },
      permissions: ['answer-alerts', 'read'],
    });
  });

  it.each([
    ['a DNS-rebinding page', 'GET', '/api/alerts', { host: 'evil.example:80' }, undefined, 403],
    [
      'another origin',
      'POST',
      '/api/silences',
      { origin: 'https://evil.example', 'content-type': 'application/json' },
      '{}',
      403,
    ],
    ['another site', 'GET', '/api/alerts', { 'sec-fetch-site': 'cross-site' }, undefined, 403],
    ['a plain form post', 'POST', '/api/alerts/a-1/decisions', { 'content-type': 'text/plain' }, '{}', 415],
    [
      'an oversized body',
      'POST',
      '/api/silences',
      { 'content-type': 'application/json' },
      `{"x":"${'y'.repeat(70_000)}"}`,
      413,
    ],
    [
      'a body that is not JSON',
      'POST',
      '/api/silences',
      { 'content-type': 'application/json' },
      '{nope',
      400,
    ],
    ['a JSON array', 'POST', '/api/silences', { 'content-type': 'application/json' }, '[]', 400],
    ['a method it does not serve', 'DELETE', '/api/alerts/a-1', {}, undefined, 405],
    ['a post to a static file', 'POST', '/index.html', { 'content-type': 'application/json' }, '{}', 405],
  ])(
    'GIVEN %s WHEN it reaches the console THEN it is refused with %s … %i and the runtime never sees it',
    async (_what, method, path, headers, body, status) => {
      received.length = 0;
      const reply = await raw(method, path, headers, body);
      expect(reply.status).toBe(status);
      expect(JSON.parse(reply.body)).toEqual({ error: expect.any(String) as unknown });
      expect(received).toEqual([]);
    },
  );

  it('GIVEN the runtime is down WHEN the console asks it THEN a 502 says so', async () => {
    const orphan = await startConsoleServer({
      files,
      apiPort: 9,
      actor: { name: 'olu', role: 'operator' },
      port: 0,
    });
    try {
      const reply = await fetch(`http://127.0.0.1:${orphan.port}/api/alerts`);
      expect(reply.status).toBe(502);
      expect(((await reply.json()) as { error: string }).error).toContain(
        "the local runtime's API did not answer",
      );
    } finally {
      await orphan.close();
    }
  });

  it('GIVEN a user name the runtime would refuse WHEN the console starts THEN it says which flag to fix', async () => {
    await expect(
      startConsoleServer({ files, apiPort: 9, actor: { name: 'a;b', role: 'operator' }, port: 0 }),
    ).rejects.toThrow(/--user, --role/);
  });

  it('GIVEN the built console THEN the page stays light for plant Wi-Fi: no validation library, no Node code', () => {
    const script = Buffer.from(files.get('/main.js') ?? new Uint8Array()).toString('utf8');
    expect(script.length).toBeGreaterThan(10_000);
    expect(script.length).toBeLessThan(150_000);
    expect(script).not.toContain('ZodError');
    expect(script).not.toContain('node:');
  });
});
