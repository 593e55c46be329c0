import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxAdmin } from '../../lambdas/adapters/influx-admin.ts';
import { createSetupHandler } from '../../lambdas/influx-setup/handler.ts';
import {
  deployedFunction,
  deployedTemplate,
  servicesWithoutEndpoint,
} from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { resolveDeep } from '../support/template-env.ts';

const DEPLOYMENT = 'InfluxDB, no trained model';

/**
 * The part of the InfluxDB 2 API the setup uses, kept in memory: sign-in with a session cookie,
 * organizations, buckets, v1 mappings and authorizations. Debian's InfluxDB is 1.x, which has none
 * of it, so this stand-in records what the setup asked for.
 */
class FakeInfluxV2 {
  readonly buckets = new Map<string, { id: string; name: string; retentionRules: unknown }>();
  readonly dbrps: { bucketID: string; database: string }[] = [];
  readonly authorizations = new Map<string, { permissions: unknown; description: string }>();
  private next = 1;

  constructor(private readonly password = 'admin-password') {}

  readonly fetch: typeof fetch = (input, init) => Promise.resolve(this.answer(input, init));

  private answer(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Response {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const json = (status: number, value: unknown) =>
      new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/api/v2/signin') {
      const expected = `Basic ${Buffer.from(`aiotadmin:${this.password}`).toString('base64')}`;
      if (headers.get('authorization') !== expected) return json(401, { message: 'unauthorized' });
      return new Response(null, {
        status: 204,
        headers: { 'set-cookie': 'influxdb-oss-session=abc; Path=/' },
      });
    }
    if (headers.get('cookie') !== 'influxdb-oss-session=abc') return json(401, { message: 'no session' });
    const id = () => `id${this.next++}`;
    if (url.pathname === '/api/v2/orgs') return json(200, { orgs: [{ id: 'org1', name: 'aiot' }] });
    if (url.pathname === '/api/v2/buckets' && method === 'GET') {
      const name = url.searchParams.get('name');
      return json(200, { buckets: [...this.buckets.values()].filter((b) => b.name === name) });
    }
    if (url.pathname === '/api/v2/buckets' && method === 'POST') {
      const bucket = { id: id(), name: String(body.name), retentionRules: body.retentionRules };
      this.buckets.set(bucket.id, bucket);
      return json(201, bucket);
    }
    const bucketPath = /^\/api\/v2\/buckets\/(.+)$/.exec(url.pathname);
    if (bucketPath && method === 'PATCH') {
      const bucket = this.buckets.get(bucketPath[1] ?? '');
      if (!bucket) return json(404, { message: 'bucket not found' });
      bucket.retentionRules = body.retentionRules;
      return json(200, bucket);
    }
    if (url.pathname === '/api/v2/dbrps' && method === 'GET') {
      const bucketID = url.searchParams.get('bucketID');
      return json(200, {
        content: this.dbrps.filter((d) => d.bucketID === bucketID).map(() => ({ id: id() })),
      });
    }
    if (url.pathname === '/api/v2/dbrps' && method === 'POST') {
      this.dbrps.push({ bucketID: String(body.bucketID), database: String(body.database) });
      return json(201, {});
    }
    if (url.pathname === '/api/v2/authorizations' && method === 'POST') {
      const authorization = { id: id(), token: `token-${this.next}` };
      this.authorizations.set(authorization.id, {
        permissions: body.permissions,
        description: String(body.description),
      });
      return json(201, authorization);
    }
    const authorizationPath = /^\/api\/v2\/authorizations\/(.+)$/.exec(url.pathname);
    if (authorizationPath && method === 'DELETE') {
      return this.authorizations.delete(authorizationPath[1] ?? '')
        ? new Response(null, { status: 204 })
        : json(404, { message: 'authorization not found' });
    }
    return json(404, { message: `no route ${method} ${url.pathname}` });
  }
}

const ARNS = {
  admin: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin',
  write: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:write',
  read: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:read',
};
const properties = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:provider',
  Url: 'https://influx.example:8086',
  Organization: 'aiot',
  AdminSecretArn: ARNS.admin,
  WriteTokenSecretArn: ARNS.write,
  ReadTokenSecretArn: ARNS.read,
  Description: 'aiot-pipeline Test',
  // CloudFormation hands numbers over as strings.
  Buckets: [{ name: 'pump-maintenance', retentionSeconds: String(730 * 86400) }],
};
const base = {
  ServiceToken: properties.ServiceToken,
  ResponseURL: 'https://cloudformation-custom-resource-response',
  StackId: 'stack',
  RequestId: 'request',
  LogicalResourceId: 'Setup',
  ResourceType: 'Custom::AiotInfluxSetup',
  ResourceProperties: properties,
};
const create = { ...base, RequestType: 'Create' } as unknown as CloudFormationCustomResourceEvent;
const update = {
  ...base,
  RequestType: 'Update',
  PhysicalResourceId: 'influx-setup:https://influx.example:8086',
  OldResourceProperties: properties,
} as unknown as CloudFormationCustomResourceEvent;
const remove = {
  ...base,
  RequestType: 'Delete',
  PhysicalResourceId: 'influx-setup:https://influx.example:8086',
} as unknown as CloudFormationCustomResourceEvent;

const secrets = mockClient(SecretsManagerClient);
let stored: Map<string, string>;
let influx: FakeInfluxV2;
const handler = () =>
  createSetupHandler({
    secrets: new SecretsManagerClient({}),
    admin: (url) => new InfluxAdmin(url, influx.fetch),
  });

beforeEach(() => {
  influx = new FakeInfluxV2();
  stored = new Map([
    [ARNS.admin, JSON.stringify({ username: 'aiotadmin', password: 'admin-password' })],
    [ARNS.write, 'placeholder'],
    [ARNS.read, 'placeholder'],
  ]);
  secrets.reset();
  secrets.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({
    SecretString: stored.get(input.SecretId),
  }));
  secrets.on(PutSecretValueCommand).callsFake((input: { SecretId: string; SecretString: string }) => {
    stored.set(input.SecretId, input.SecretString);
    return {};
  });
});
afterAll(() => {
  secrets.restore();
});

function tokenIn(arn: string): { token?: string; authorizationId?: string } {
  const value = stored.get(arn) ?? '{}';
  return value === 'placeholder' ? {} : (JSON.parse(value) as { token?: string; authorizationId?: string });
}

describe('InfluxDB setup resource', () => {
  it('GIVEN a new instance WHEN created THEN each use case gets a bucket with its retention and a v1 mapping, and each secret a scoped token', async () => {
    const response = await handler()(create);

    expect(response.PhysicalResourceId).toBe('influx-setup:https://influx.example:8086');
    const [bucket] = [...influx.buckets.values()];
    expect(bucket).toMatchObject({
      name: 'pump-maintenance',
      retentionRules: [{ type: 'expire', everySeconds: 730 * 86400 }],
    });
    expect(influx.dbrps).toEqual([{ bucketID: bucket?.id, database: 'pump-maintenance' }]);
    const write = tokenIn(ARNS.write);
    const read = tokenIn(ARNS.read);
    expect(write.token).toMatch(/^token-/);
    expect(influx.authorizations.get(write.authorizationId ?? '')?.permissions).toEqual([
      { action: 'read', resource: { type: 'buckets', id: bucket?.id, orgID: 'org1' } },
      { action: 'write', resource: { type: 'buckets', id: bucket?.id, orgID: 'org1' } },
    ]);
    expect(influx.authorizations.get(read.authorizationId ?? '')?.permissions).toEqual([
      { action: 'read', resource: { type: 'buckets', id: bucket?.id, orgID: 'org1' } },
    ]);
  });

  it('GIVEN a deployed setup WHEN updated THEN the bucket is kept, its retention set, and fresh tokens issued while the replaced ones keep working', async () => {
    await handler()(create);
    const first = tokenIn(ARNS.write).authorizationId;
    const [bucket] = [...influx.buckets.values()];

    await handler()({
      ...update,
      ResourceProperties: {
        ...properties,
        Buckets: [{ name: 'pump-maintenance', retentionSeconds: '86400' }],
      },
    });

    expect([...influx.buckets.values()]).toEqual([
      { id: bucket?.id, name: 'pump-maintenance', retentionRules: [{ type: 'expire', everySeconds: 86400 }] },
    ]);
    expect(influx.dbrps).toHaveLength(1);
    expect(tokenIn(ARNS.write).authorizationId).not.toBe(first);
    // A function that cached the first token (for up to 300 s) is not refused after the update.
    expect(influx.authorizations.has(first ?? '')).toBe(true);
    expect(influx.authorizations.size).toBe(4);
  });

  it('GIVEN two rotations WHEN the second is done THEN the token from two deployments back is revoked, the last one kept', async () => {
    await handler()(create);
    const first = tokenIn(ARNS.write).authorizationId;
    await handler()(update);
    const second = tokenIn(ARNS.write).authorizationId;

    await handler()(update);

    expect(influx.authorizations.has(first ?? '')).toBe(false);
    expect(influx.authorizations.has(second ?? '')).toBe(true);
    expect(influx.authorizations.size).toBe(4);
  });

  it('GIVEN a deployment that replaces the instance WHEN the setup is updated THEN it fails naming both addresses, and issues nothing', async () => {
    await handler()(create);
    const before = influx.authorizations.size;
    const replaced = {
      ...update,
      ResourceProperties: { ...properties, Url: 'https://influx-new.example:8086' },
    } as unknown as CloudFormationCustomResourceEvent;

    await expect(handler()(replaced)).rejects.toThrow(
      'this deployment replaces the InfluxDB instance (https://influx.example:8086 becomes https://influx-new.example:8086',
    );
    expect(influx.authorizations.size).toBe(before);
  });

  it('GIVEN a replacement the stack allows WHEN the setup is updated THEN it sets up the new instance', async () => {
    await handler()(create);
    const allowed = {
      ...update,
      ResourceProperties: {
        ...properties,
        Url: 'https://influx-new.example:8086',
        AllowInstanceReplacement: 'true',
      },
    } as unknown as CloudFormationCustomResourceEvent;

    // The fake answers any address: the new instance is set up like the first.
    await expect(handler()(allowed)).resolves.toMatchObject({
      Data: { BucketIds: expect.any(String) as unknown },
    });
  });

  it('GIVEN a rotated setup WHEN the stack is deleted THEN the tokens, current and replaced, are revoked and the buckets kept', async () => {
    await handler()(create);
    await handler()(update);

    await handler()(remove);

    expect(influx.authorizations.size).toBe(0);
    expect(influx.buckets.size).toBe(1);
  });

  it('GIVEN a wrong admin password WHEN created THEN it fails saying InfluxDB refused the sign-in', async () => {
    influx = new FakeInfluxV2('another-password');

    await expect(handler()(create)).rejects.toThrow('InfluxDB refused the admin sign-in: 401');
    expect(tokenIn(ARNS.write).token).toBeUndefined();
  });

  it('GIVEN an admin secret without a password WHEN created THEN it names the secret', async () => {
    stored.set(ARNS.admin, JSON.stringify({ username: 'aiotadmin' }));

    await expect(handler()(create)).rejects.toThrow(
      `secret ${ARNS.admin} holds no {"username", "password"} object`,
    );
  });

  it("GIVEN the setup resource as the template declares it WHEN created, updated and deleted THEN every AWS call is one the setup function's role allows, and the role allows nothing else", async () => {
    const template = deployedTemplate(DEPLOYMENT);
    const [declared] = Object.values(template.Resources).filter((r) => r.Type === 'Custom::AiotInfluxSetup');
    const resolved = resolveDeep(template, declared?.Properties) as typeof properties;
    stored.set(
      resolved.AdminSecretArn,
      JSON.stringify({ username: 'aiotadmin', password: 'admin-password' }),
    );
    const event = {
      ...base,
      ResourceProperties: resolved,
      PhysicalResourceId: `influx-setup:${resolved.Url}`,
    };

    await handler()({ ...event, RequestType: 'Create' } as unknown as CloudFormationCustomResourceEvent);
    await handler()({
      ...event,
      RequestType: 'Update',
      OldResourceProperties: resolved,
    } as unknown as CloudFormationCustomResourceEvent);
    await handler()({ ...event, RequestType: 'Delete' } as unknown as CloudFormationCustomResourceEvent);

    expect(influx.buckets.size).toBeGreaterThan(0);
    const setup = deployedFunction(DEPLOYMENT, 'Telemetry/SetupFunction');
    const requests = iamRequestsOf([secrets]);
    expect(await deniedRequests(setup.policies, requests)).toEqual([]);
    expect(unusedGrants(setup.policies, requests)).toEqual([]);
    expect(servicesWithoutEndpoint(DEPLOYMENT, setup, requests)).toEqual([]);
  });
});
