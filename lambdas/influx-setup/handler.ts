import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { z } from 'zod';
import { InfluxAdmin } from '../adapters/influx-admin.ts';
import { logger } from '../shared/powertools.ts';

/** What the InfluxTelemetryStore construct passes to its setup resource. */
const propertiesSchema = z.object({
  Url: z.url(),
  Organization: z.string().min(1),
  AdminSecretArn: z.string().min(1),
  WriteTokenSecretArn: z.string().min(1),
  ReadTokenSecretArn: z.string().min(1),
  Description: z.string().min(1),
  AllowInstanceReplacement: z.enum(['true']).optional(),
  // CloudFormation passes every property as a string.
  Buckets: z.array(z.object({ name: z.string().min(1), retentionSeconds: z.coerce.number().int().min(0) })),
});
const adminSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });
/**
 * A token secret: the token functions use, and the one it replaced, kept until the next rotation
 * so that a function still holding it (they cache a token for 300 s) is not refused meanwhile.
 */
const tokenSecretSchema = z.object({
  token: z.string(),
  authorizationId: z.string(),
  previousAuthorizationId: z.string().optional(),
});

export interface SetupDependencies {
  readonly secrets: SecretsManagerClient;
  readonly admin: (url: string) => InfluxAdmin;
}

export interface SetupResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * The custom resource behind the InfluxDB store: signed in as the admin, it makes each use case's
 * bucket with its manifest's retention and a v1 mapping, then a read-write token for the ingest
 * functions and a read-only one for drift and the console, kept in their secrets. A new
 * deployment issues fresh tokens and keeps the ones they replace until the next, so no function
 * is refused while it holds a cached one; deleting the stack deletes the tokens and keeps the
 * buckets (the instance is retained with its data).
 */
export function createSetupHandler(deps: SetupDependencies) {
  return async (event: CloudFormationCustomResourceEvent): Promise<SetupResponse> => {
    const props = propertiesSchema.parse(event.ResourceProperties);
    const physicalId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : `influx-setup:${props.Url}`;
    if (event.RequestType === 'Delete') {
      const admin = await signedIn(deps, props);
      for (const arn of [props.WriteTokenSecretArn, props.ReadTokenSecretArn]) {
        const previous = await issuedToken(deps.secrets, arn);
        if (previous) await admin.deleteToken(previous.authorizationId);
        if (previous?.previousAuthorizationId) await admin.deleteToken(previous.previousAuthorizationId);
      }
      return { PhysicalResourceId: physicalId };
    }
    if (event.RequestType === 'Update') refuseSilentReplacement(event.OldResourceProperties, props);
    const admin = await signedIn(deps, props);
    const orgID = await admin.organizationId(props.Organization);
    const bucketIDs: string[] = [];
    for (const bucket of props.Buckets) {
      const id = await admin.ensureBucket(orgID, bucket);
      await admin.ensureDatabaseMapping(orgID, id, bucket.name);
      bucketIDs.push(id);
    }
    const tokens = [
      { arn: props.WriteTokenSecretArn, actions: ['read', 'write'] as const, use: 'ingest (read-write)' },
      { arn: props.ReadTokenSecretArn, actions: ['read'] as const, use: 'drift checks and console (read)' },
    ];
    for (const { arn, actions, use } of tokens) {
      const previous = await issuedToken(deps.secrets, arn);
      const issued = await admin.createToken(orgID, `${props.Description}: ${use}`, bucketIDs, actions);
      const secret: z.infer<typeof tokenSecretSchema> = {
        token: issued.token,
        authorizationId: issued.id,
        ...(previous ? { previousAuthorizationId: previous.authorizationId } : {}),
      };
      await deps.secrets.send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify(secret) }),
      );
      // Functions cache a token for 300 s: the one just replaced keeps working until the next
      // rotation; the one before it has had a whole deployment's time to fall out of every cache.
      if (previous?.previousAuthorizationId) await admin.deleteToken(previous.previousAuthorizationId);
    }
    logger.info('InfluxDB buckets and tokens in place', { buckets: props.Buckets.map((b) => b.name) });
    return { PhysicalResourceId: physicalId, Data: { BucketIds: bucketIDs.join(',') } };
  };
}

/**
 * A replaced instance is a new, empty one at another address, and the retained old one keeps every
 * reading where no function looks any more: fail the deployment (CloudFormation rolls it back)
 * unless the stack says the replacement is meant.
 */
function refuseSilentReplacement(
  old: Record<string, unknown>,
  props: z.infer<typeof propertiesSchema>,
): void {
  const before = typeof old.Url === 'string' ? old.Url : undefined;
  if (before === undefined || before === props.Url || props.AllowInstanceReplacement === 'true') return;
  throw new Error(
    `this deployment replaces the InfluxDB instance (${before} becomes ${props.Url}, a new and empty one; ` +
      'the old one is retained with its data). Refused: migrate the data first, then deploy with ' +
      '-c influxAllowReplacement=true (docs/operations.md).',
  );
}

async function signedIn(
  deps: SetupDependencies,
  props: z.infer<typeof propertiesSchema>,
): Promise<InfluxAdmin> {
  const { SecretString } = await deps.secrets.send(
    new GetSecretValueCommand({ SecretId: props.AdminSecretArn }),
  );
  const admin = adminSchema.safeParse(JSON.parse(SecretString ?? '{}'));
  if (!admin.success)
    throw new Error(`secret ${props.AdminSecretArn} holds no {"username", "password"} object`);
  const client = deps.admin(props.Url);
  await client.signIn(admin.data.username, admin.data.password);
  return client;
}

/** The token a secret holds, or none while it still holds the placeholder it was created with. */
async function issuedToken(
  secrets: SecretsManagerClient,
  arn: string,
): Promise<z.infer<typeof tokenSecretSchema> | undefined> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  try {
    const parsed = tokenSecretSchema.safeParse(JSON.parse(SecretString ?? '{}'));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const handler = createSetupHandler({
  secrets: new SecretsManagerClient({}),
  admin: (url) => new InfluxAdmin(url),
});
