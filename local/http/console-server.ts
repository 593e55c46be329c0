import * as http from 'node:http';
import { sessionOf } from '../../core/operators/api.ts';
import { actorSchema, type Actor } from '../../core/operators/actor.ts';
import { issuesText } from '../../core/contracts/reasons.ts';
import { readBody, replyJson, serverHandle } from '../../model/http-json.ts';
import { listen } from './listen.ts';
import { JSON_CONTENT_TYPE } from './runtime-api.ts';

const MAX_BODY_BYTES = 64 * 1024;
const API_PREFIX = '/api';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/**
 * The page runs only its own script and talks only to its own origin. uPlot sizes its canvas
 * through element styles, hence inline styles.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export interface ConsoleServerOptions {
  /** The console's built files by URL path (`/index.html`, `/main.js`, `/main.css`). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The local runtime's API, where reads and decisions go. */
  readonly apiPort: number;
  /** Who the console acts as: every decision made through it is recorded with this name and role. */
  readonly actor: Actor;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 8886 */
  readonly port?: number;
}

/**
 * Why a request may not be served, or undefined. The console serves this machine's browser only:
 * the Host must be the loopback address and port (a DNS-rebinding page names its own host), and a
 * request a page sends from another origin is refused, so no web site can act as the user.
 */
function refusalOf(
  request: http.IncomingMessage,
  port: number,
): { status: number; error: string } | undefined {
  const host = (request.headers.host ?? '').toLowerCase();
  const own = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!own.includes(host))
    return { status: 403, error: `Host "${host}" is not this console (${own.join(', ')})` };
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`)
    return { status: 403, error: `requests from other origins are refused (Origin "${origin}")` };
  if (request.headers['sec-fetch-site'] === 'cross-site')
    return { status: 403, error: 'requests from other sites are refused' };
  const method = request.method ?? '';
  const api = (request.url ?? '').startsWith(`${API_PREFIX}/`);
  if (method === 'POST' && api) {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== JSON_CONTENT_TYPE)
      return { status: 415, error: `content-type must be ${JSON_CONTENT_TYPE}, got "${type ?? ''}"` };
    return undefined;
  }
  if (method !== 'GET' && method !== 'HEAD')
    return { status: 405, error: `${method} is not served: GET to read${api ? ', POST to decide' : ''}` };
  return undefined;
}

/**
 * The operator console on one machine: the built page, and `/api/*` passed to the runtime's API
 * with the local user as the actor of every change (the runtime's API refuses browsers itself).
 */
export async function startConsoleServer(
  options: ConsoleServerOptions,
): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const who = actorSchema.safeParse(options.actor);
  if (!who.success) throw new Error(`the console's user: ${issuesText(who.error.issues)} (--user, --role)`);
  const host = options.host ?? '127.0.0.1';
  let boundPort = options.port ?? 8886;
  const session = sessionOf(options.actor);
  const server = http.createServer((request, response) => {
    void (async () => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
      const refusal = refusalOf(request, boundPort);
      if (refusal) {
        request.resume();
        replyJson(response, refusal.status, { error: refusal.error });
        return;
      }
      const url = new URL(request.url ?? '/', 'http://console');
      if (url.pathname.startsWith(`${API_PREFIX}/`)) {
        response.setHeader('cache-control', 'no-store');
        await forward(request, response, url, options, session);
        return;
      }
      request.resume();
      if (url.pathname === '/config.json') {
        replyJson(response, 200, { mode: 'local' });
        return;
      }
      const file = options.files.get(url.pathname === '/' ? '/index.html' : url.pathname);
      if (!file) {
        replyJson(response, 404, { error: `no ${url.pathname}: the console is at /` });
        return;
      }
      const extension = url.pathname === '/' ? '.html' : url.pathname.slice(url.pathname.lastIndexOf('.'));
      response.writeHead(200, {
        'content-type': TYPES[extension] ?? 'application/octet-stream',
        'content-length': file.byteLength,
        'cache-control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : file);
    })().catch(() => {
      response.destroy();
    });
  });
  await listen(server, boundPort, host, '--console-port');
  const handle = serverHandle(server);
  boundPort = handle.port;
  return { ...handle, url: `http://${host}:${handle.port}/` };
}

async function forward(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  url: URL,
  options: ConsoleServerOptions,
  session: ReturnType<typeof sessionOf>,
): Promise<void> {
  const route = url.pathname.slice(API_PREFIX.length);
  if (route === '/session' && request.method === 'GET') {
    request.resume();
    replyJson(response, 200, session);
    return;
  }
  let body: string | undefined;
  if (request.method === 'POST') {
    const text = await readBody(request, MAX_BODY_BYTES);
    if (text === undefined) {
      replyJson(response, 413, { error: `request body above ${MAX_BODY_BYTES} bytes` });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      replyJson(response, 400, { error: 'the body must be JSON' });
      return;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      replyJson(response, 400, { error: 'the body must be a JSON object' });
      return;
    }
    // Who acts is the console's user, whatever the page sent.
    body = JSON.stringify({ ...json, actor: options.actor });
  } else request.resume();
  const answer = await fetch(`http://127.0.0.1:${options.apiPort}${route}${url.search}`, {
    method: request.method ?? 'GET',
    ...(body === undefined ? {} : { headers: { 'content-type': JSON_CONTENT_TYPE }, body }),
  }).catch((error: unknown) => error);
  if (!(answer instanceof Response)) {
    replyJson(response, 502, {
      error: `the local runtime's API did not answer: ${answer instanceof Error ? answer.message : String(answer)}`,
    });
    return;
  }
  response.writeHead(answer.status, { 'content-type': 'application/json' });
  response.end(Buffer.from(await answer.arrayBuffer()));
}
