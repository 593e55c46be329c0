import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../tools/console-bundle.ts';
import { collectErrors, launchBrowser, screenshot, VIEWPORTS } from '../support/browser.ts';

/**
 * The cloud console's sign-in, in a real browser, against a stand-in of Cognito's managed login
 * (authorize and token endpoints) and of CloudFront in front of the site and its API: what cannot
 * run here is AWS, not the page's code.
 */
const CLIENT_ID = 'console-client';
const ACCESS_TOKEN = 'access-token-for-olu';
let browser: Browser;
let cognito: http.Server;
let site: http.Server;
let cognitoUrl: string;
let siteUrl: string;
const seen: { authorize?: URLSearchParams; token?: URLSearchParams; apiAuthorization: string[] } = {
  apiAuthorization: [],
};
let challenge = '';

const base64Url = (bytes: Buffer) =>
  bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function json(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

beforeAll(async () => {
  const files = await buildConsole();
  cognito = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://cognito');
    if (url.pathname === '/oauth2/authorize') {
      seen.authorize = url.searchParams;
      challenge = url.searchParams.get('code_challenge') ?? '';
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', 'the-code');
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.toString() });
      response.end();
      return;
    }
    if (url.pathname === '/oauth2/token' && request.method === 'POST') {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const form = new URLSearchParams(body);
        seen.token = form;
        const cors = { 'access-control-allow-origin': siteUrl };
        const verified =
          base64Url(
            createHash('sha256')
              .update(form.get('code_verifier') ?? '')
              .digest(),
          ) === challenge;
        if (form.get('code') !== 'the-code' || !verified) {
          json(response, 400, { error: 'invalid_grant' }, cors);
          return;
        }
        json(
          response,
          200,
          { access_token: ACCESS_TOKEN, id_token: 'id', token_type: 'Bearer', expires_in: 3600 },
          cors,
        );
      });
      return;
    }
    json(response, 404, { error: 'not here' });
  });
  cognitoUrl = await listen(cognito);

  site = http.createServer((request, response) => {
    response.setHeader(
      'content-security-policy',
      `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ${cognitoUrl}; frame-ancestors 'none'`,
    );
    const url = new URL(request.url ?? '/', 'http://site');
    if (url.pathname.startsWith('/api/')) {
      const authorization = request.headers.authorization ?? '';
      seen.apiAuthorization.push(authorization);
      if (authorization !== `Bearer ${ACCESS_TOKEN}`) {
        json(response, 401, { message: 'Unauthorized' });
        return;
      }
      const answers: Record<string, unknown> = {
        '/api/session': { actor: { name: 'olu', role: 'operator' }, permissions: ['answer-alerts', 'read'] },
        '/api/use-cases': {
          useCases: [{ id: 'pump-maintenance', name: 'Pumps', groups: ['pump-maintenance'] }],
          falsePositiveReasons: ['sensor-fault'],
        },
        '/api/alerts': { alerts: [] },
      };
      json(response, url.pathname in answers ? 200 : 404, answers[url.pathname] ?? { error: 'no route' });
      return;
    }
    if (url.pathname === '/config.json') {
      json(response, 200, { mode: 'cognito', domain: cognitoUrl, clientId: CLIENT_ID });
      return;
    }
    const file = files.get(url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file) {
      json(response, 404, { error: 'no file' });
      return;
    }
    const type = url.pathname.endsWith('.js')
      ? 'text/javascript'
      : url.pathname.endsWith('.css')
        ? 'text/css'
        : 'text/html';
    response.writeHead(200, { 'content-type': type });
    response.end(file);
  });
  siteUrl = await listen(site);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser.close();
  for (const server of [cognito, site]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('cloud console sign-in (managed login, authorization code with PKCE)', () => {
  it('GIVEN no session WHEN the console opens THEN it signs in through the managed login and calls the API with the access token only', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone, locale: 'en-GB' });
    const page = await context.newPage();
    const errors = collectErrors(page);

    await page.goto(`${siteUrl}/#/inbox`);
    await page.getByText('Nothing needs an answer.').waitFor();

    expect(Object.fromEntries(seen.authorize ?? [])).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${siteUrl}/`,
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(seen.token?.get('grant_type')).toBe('authorization_code');
    expect(seen.token?.get('client_id')).toBe(CLIENT_ID);
    // The page calls the API with the token, and drops the code from its address.
    expect(seen.apiAuthorization.filter((a) => a === `Bearer ${ACCESS_TOKEN}`).length).toBeGreaterThan(0);
    expect(new URL(page.url()).search).toBe('');
    expect(await page.locator('.who').textContent()).toContain('olu · operator');
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    await screenshot(page, 'signed-in-phone');
    expect(errors).toEqual([]);
    // Every API call carried the token: none went out before the sign-in finished.
    expect(seen.apiAuthorization.every((a) => a === `Bearer ${ACCESS_TOKEN}`)).toBe(true);
  });
});
