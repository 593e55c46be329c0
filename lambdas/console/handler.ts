import { EventBridgeAuditTrail } from '../adapters/eventbridge-audit-trail.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { AlertService } from '../../core/alerts/alert-service.ts';
import type { NotificationBatcher } from '../../core/alerts/ports.ts';
import { systemClock } from '../../core/ingest/ports.ts';
import { actorSchema, ROLE_GROUPS, type Actor } from '../../core/operators/actor.ts';
import { OperatorApi } from '../../core/operators/api.ts';
import { alertInferenceOf } from '../../core/usecase/manifest.ts';
import { AwsAlertNotifier, NOTIFIED_BY_NOTIFY_FUNCTION } from '../adapters/aws-alert-notifier.ts';
import { DynamoDbAlertStore } from '../adapters/dynamodb-alert-store.ts';
import { DynamoDbKpiDays } from '../adapters/dynamodb-kpi-days.ts';
import { DynamoDbDeviceReports } from '../adapters/dynamodb-device-reports.ts';
import { SageMakerModelVersions } from '../adapters/sagemaker-model-versions.ts';
import { deploymentFromEnv } from '../shared/deployment.ts';
import { kpiReadsFromEnv, operatorReadsFromEnv } from '../shared/telemetry-backend.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

/** The API's routes sit under this prefix: CloudFront sends `/api/*` to the HTTP API, the rest to the bucket. */
const PREFIX = '/api';
const MAX_BODY_BYTES = 64 * 1024;
type Claims = Record<string, string | number | boolean | string[]>;

/** Who the token says the caller is: the user name, and the role of their most capable group. */
export function actorFromClaims(claims: Claims): Actor | { error: string } {
  const raw = claims['cognito:groups'];
  // The HTTP API's JWT authorizer hands array claims over as one string: "[operators analysts]".
  const groups = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw
          .replace(/^\[|\]$/g, '')
          .split(/[\s,]+/)
          .filter(Boolean)
      : [];
  const match = ROLE_GROUPS.find(([group]) => groups.includes(group));
  const name = claims.username ?? claims['cognito:username'] ?? claims.sub;
  if (!match) {
    return {
      error: `you are in no console group (${ROLE_GROUPS.map(([group]) => group).join(', ')}): ask an administrator to add you to one`,
    };
  }
  const actor = actorSchema.safeParse({ name, role: match[1] });
  return actor.success ? actor.data : { error: 'the token carries no usable user name' };
}

function reply(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * The console's HTTP API: API Gateway has checked the token's signature, issuer, audience and
 * expiry; the actor comes from its claims only, never from the request body or headers.
 */
export function createConsoleHandler(api: OperatorApi) {
  return async (
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    if (context) logger.addContext(context);
    const actor = actorFromClaims(event.requestContext.authorizer.jwt.claims);
    if ('error' in actor) return reply(403, { error: actor.error });
    const body =
      event.body === undefined
        ? ''
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    if (Buffer.byteLength(body) > MAX_BODY_BYTES)
      return reply(413, { error: `request body above ${MAX_BODY_BYTES} bytes` });
    const path = event.rawPath.startsWith(`${PREFIX}/`) ? event.rawPath.slice(PREFIX.length) : event.rawPath;
    const query = event.queryStringParameters ?? {};
    try {
      const answer = await api.handle({ method: event.requestContext.http.method, path, query, body, actor });
      if (!answer) return reply(404, { error: `no ${event.requestContext.http.method} ${event.rawPath}` });
      if (answer.status === 200 && event.requestContext.http.method === 'POST')
        logger.info('decision', { actor, path, status: answer.status });
      return reply(answer.status, answer.body);
    } catch (error) {
      logger.error('operator request failed', { path, error: error as Error });
      return reply(500, { error: `internal error; request id ${event.requestContext.requestId}` });
    }
  };
}

/**
 * The console never opens alerts (the ingest function does, and batches their notifications), so
 * nothing here may hold one for a notification.
 */
const noBatching: NotificationBatcher = {
  add: () => Promise.reject(new Error('the console API opens no alerts, so it batches no notifications')),
  due: () => Promise.resolve([]),
};

/**
 * Wires the API from the environment the OperatorConsole construct sets. The use-case manifests
 * are compiled into the function (AIOT_USE_CASES, a JSON array): they are the deployment's
 * configuration, and larger than Lambda's 4 KB of environment.
 */
export function consoleApiFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorApi {
  const { contracts, manifests } = deploymentFromEnv(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const table = requireEnv('ALERT_TABLE', env);
  const store = new DynamoDbAlertStore(documents, table);
  return new OperatorApi({
    alerts: new AlertService(
      store,
      store,
      // Decisions publish their events; people are notified of new alerts only, by the ingest path.
      new AwsAlertNotifier(
        new EventBridgeClient({}),
        requireEnv('EVENT_BUS_NAME', env),
        NOTIFIED_BY_NOTIFY_FUNCTION,
      ),
      noBatching,
      systemClock,
      new Map(manifests.map((m) => [m.id, { policy: m.alerts, inference: alertInferenceOf(m) }])),
    ),
    alertStore: store,
    baselines: store,
    reads: operatorReadsFromEnv(env, new DynamoDbDeviceReports(documents, table)),
    // The savings since a fault's fix read the store as the KPI function does.
    kpiReads: kpiReadsFromEnv(env, contracts, store),
    useCases: manifests,
    contracts,
    clock: systemClock,
    newId: randomUUID,
    audit: new EventBridgeAuditTrail(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME', env)),
    // The days the KPI function keeps, for the use-case page (the OperatorConsole construct's kpiTable).
    ...(env.KPI_TABLE ? { kpis: new DynamoDbKpiDays(documents, env.KPI_TABLE) } : {}),
    // Each use case's model package group, once it has a model (the use-case page lists its versions).
    ...(env.MODEL_PACKAGE_GROUPS
      ? {
          models: new SageMakerModelVersions(
            new SageMakerClient({}),
            modelPackageGroups(env.MODEL_PACKAGE_GROUPS),
          ),
        }
      : {}),
  });
}

function modelPackageGroups(json: string): Map<string, string> {
  return new Map(Object.entries(z.record(z.string(), z.string().min(1)).parse(JSON.parse(json))));
}

let handlerInstance: ReturnType<typeof createConsoleHandler> | undefined;

export const handler = async (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  handlerInstance ??= createConsoleHandler(consoleApiFromEnv(bundledEnv()));
  return handlerInstance(event, context);
};
