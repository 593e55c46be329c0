import { z } from 'zod';

/** A bucket as the stack wants it: a use case's readings and scores, kept as long as its manifest says. */
export interface BucketSpec {
  readonly name: string;
  readonly retentionSeconds: number;
}

/** A token InfluxDB issued: its id (to delete it) and its secret value. */
export interface IssuedToken {
  readonly id: string;
  readonly token: string;
}

const orgsSchema = z.object({ orgs: z.array(z.object({ id: z.string(), name: z.string() })) });
const bucketsSchema = z.object({ buckets: z.array(z.object({ id: z.string(), name: z.string() })) });
const bucketSchema = z.object({ id: z.string() });
const dbrpsSchema = z.object({ content: z.array(z.object({ id: z.string() })) });
const authorizationSchema = z.object({ id: z.string(), token: z.string() });

/**
 * The administration the stack does on its InfluxDB 2 instance through the v2 API, signed in as
 * the initial admin user: buckets with retention, their v1 mappings (the adapter speaks the v1
 * `/write` and `/query` API), and scoped tokens for the functions.
 */
export class InfluxAdmin {
  private session: string | undefined;

  constructor(
    private readonly url: string,
    private readonly fetch: typeof globalThis.fetch = globalThis.fetch,
  ) {}

  async signIn(username: string, password: string): Promise<void> {
    const response = await this.fetch(new URL('/api/v2/signin', this.url), {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(`InfluxDB refused the admin sign-in: ${response.status} ${await response.text()}`);
    const cookie = response.headers.get('set-cookie');
    if (!cookie) throw new Error('InfluxDB signed the admin in without a session cookie');
    this.session = cookie.split(';')[0];
  }

  async organizationId(name: string): Promise<string> {
    const { orgs } = orgsSchema.parse(
      await this.call('GET', `/api/v2/orgs?${new URLSearchParams({ org: name }).toString()}`),
    );
    const org = orgs.find((o) => o.name === name);
    if (!org) throw new Error(`InfluxDB has no organization "${name}"`);
    return org.id;
  }

  /** Creates the bucket or sets its retention; answers its id. Never deletes data. */
  async ensureBucket(orgID: string, spec: BucketSpec): Promise<string> {
    const retentionRules = [{ type: 'expire', everySeconds: spec.retentionSeconds }];
    const query = new URLSearchParams({ orgID, name: spec.name }).toString();
    const { buckets } = bucketsSchema.parse(await this.call('GET', `/api/v2/buckets?${query}`));
    const existing = buckets.find((b) => b.name === spec.name);
    if (existing) {
      await this.call('PATCH', `/api/v2/buckets/${existing.id}`, { retentionRules });
      return existing.id;
    }
    return bucketSchema.parse(
      await this.call('POST', '/api/v2/buckets', { orgID, name: spec.name, retentionRules }),
    ).id;
  }

  /** Maps the v1 database of the bucket's name onto it, unless a mapping exists. */
  async ensureDatabaseMapping(orgID: string, bucketID: string, database: string): Promise<void> {
    const query = new URLSearchParams({ orgID, bucketID }).toString();
    const { content } = dbrpsSchema.parse(await this.call('GET', `/api/v2/dbrps?${query}`));
    if (content.length > 0) return;
    await this.call('POST', '/api/v2/dbrps', {
      orgID,
      bucketID,
      database,
      retention_policy: 'autogen',
      default: true,
    });
  }

  /** A token that may do `actions` on these buckets only. */
  async createToken(
    orgID: string,
    description: string,
    bucketIDs: readonly string[],
    actions: readonly ('read' | 'write')[],
  ): Promise<IssuedToken> {
    const permissions = bucketIDs.flatMap((id) =>
      actions.map((action) => ({ action, resource: { type: 'buckets', id, orgID } })),
    );
    return authorizationSchema.parse(
      await this.call('POST', '/api/v2/authorizations', { orgID, description, permissions }),
    );
  }

  /** Deletes a token; one already gone is fine. */
  async deleteToken(id: string): Promise<void> {
    await this.call('DELETE', `/api/v2/authorizations/${encodeURIComponent(id)}`, undefined, [404]);
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    tolerated: readonly number[] = [],
  ): Promise<unknown> {
    if (!this.session) throw new Error('sign in before calling the InfluxDB API');
    const response = await this.fetch(new URL(path, this.url), {
      method,
      headers: {
        Cookie: this.session,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok && !tolerated.includes(response.status))
      throw new Error(
        `InfluxDB ${method} ${path.split('?')[0] ?? path}: ${response.status} ${text.slice(0, 300)}`,
      );
    return text ? (JSON.parse(text) as unknown) : {};
  }
}
