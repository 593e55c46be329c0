/**
 * Sign-in for the cloud console: Amazon Cognito's managed login with the authorization code flow
 * and PKCE, so the page holds no secret. Locally there is no sign-in: the console's server acts
 * as the user it was started for (`--user`, `--role`).
 */
export type ConsoleConfig =
  | { readonly mode: 'local' }
  | {
      readonly mode: 'cognito';
      /** The user pool's managed login domain, such as https://plant.auth.eu-west-1.amazoncognito.com */
      readonly domain: string;
      readonly clientId: string;
    };

const TOKEN_KEY = 'aiot.token';
const VERIFIER_KEY = 'aiot.pkce';
let config: ConsoleConfig = { mode: 'local' };

interface StoredToken {
  readonly accessToken: string;
  readonly expiresAt: number;
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function redirectUri(): string {
  return `${location.origin}/`;
}

/** Reads the deployment's configuration and finishes a sign-in the managed login redirected back from. */
export async function initAuth(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { headers: { accept: 'application/json' } });
  config = (await response.json()) as ConsoleConfig;
  if (config.mode !== 'cognito') return config;
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    const pending = JSON.parse(sessionStorage.getItem(VERIFIER_KEY) ?? '{}') as {
      verifier?: string;
      state?: string;
    };
    sessionStorage.removeItem(VERIFIER_KEY);
    history.replaceState(null, '', location.pathname + location.hash);
    if (!pending.verifier || pending.state !== params.get('state')) {
      throw new Error('the sign-in answer does not match the request this page made: sign in again');
    }
    const token = await fetch(`${config.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: config.clientId,
        code,
        redirect_uri: redirectUri(),
        code_verifier: pending.verifier,
      }),
    });
    if (!token.ok) throw new Error(`sign-in failed: ${token.status} ${await token.text()}`);
    const answer = (await token.json()) as { access_token: string; expires_in: number };
    const stored: StoredToken = {
      accessToken: answer.access_token,
      expiresAt: Date.now() + answer.expires_in * 1000,
    };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(stored));
  }
  return config;
}

/** The access token for the API, signing in first when there is none; undefined locally. */
export async function bearerToken(): Promise<string | undefined> {
  if (config.mode !== 'cognito') return undefined;
  const stored = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null') as StoredToken | null;
  if (stored && stored.expiresAt > Date.now() + 30_000) return stored.accessToken;
  await signIn();
  return undefined;
}

export async function signIn(): Promise<void> {
  if (config.mode !== 'cognito') return;
  sessionStorage.removeItem(TOKEN_KEY);
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(48)));
  const state = base64Url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(VERIFIER_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(`${config.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    code_challenge_method: 'S256',
    code_challenge: challenge,
    state,
  }).toString();
  location.assign(url.toString());
  // The page is leaving: nothing after this should run.
  await new Promise(() => undefined);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (config.mode !== 'cognito') return;
  const url = new URL(`${config.domain}/logout`);
  url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() }).toString();
  location.assign(url.toString());
}
