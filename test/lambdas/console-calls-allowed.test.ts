import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { OPERATOR_ROUTES } from '../../core/operators/protocol.ts';
import { alertRecord, DynamoDbAlertStore } from '../../lambdas/adapters/dynamodb-alert-store.ts';
import { consoleApiFromEnv, createConsoleHandler } from '../../lambdas/console/handler.ts';
import { openAlert } from '../support/alerts.ts';
import { calibratingBaseline } from '../support/baselines.ts';
import {
  deployedFunction,
  deployedTemplate,
  servicesWithoutEndpoint,
  type DeployedFunction,
  type Deployment,
} from '../support/deployed-functions.ts';
import { onInfluxServer, startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { startDynamoServer, type DynamoServer } from '../support/dynalite.ts';
import { httpApiRequest } from '../support/http-api-events.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';

/**
 * The console API as deployed, on a DynamoDB engine: its environment and role from the
 * synthesized template, its tables made in dynalite as the template declares them, InfluxDB a real
 * influxd, Timestream, Secrets Manager and EventBridge answered at the network edge. An operator's and a reliability engineer's walk
 * through every route it serves: each AWS call is one its role allows, and its role allows
 * nothing the walk did not use.
 */
const timestream = mockClient(TimestreamQueryClient);
const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
const sagemaker = mockClient(SageMakerClient);
let influx: InfluxServer;

const OPERATOR = { username: 'olu', 'cognito:groups': '[operators]' };
const ENGINEER = { username: 'dana', 'cognito:groups': '[reliability-engineers]' };
const alert = openAlert(
  { useCase: 'pump-maintenance', deviceId: 'pump-001', inference: 'pump-anomaly', group: 'line-1' },
  Date.now() - 600_000,
);
const alertPath = `/api/alerts/${encodeURIComponent(alert.id)}`;
const device = '/api/devices/pump-maintenance/pump-001';

/** Each route of OPERATOR_ROUTES, as the console calls it: who, what, and the body. */
const WALK: [
  route: (typeof OPERATOR_ROUTES)[number],
  claims: Record<string, string>,
  path: string,
  body?: unknown,
][] = [
  ['GET /session', OPERATOR, '/api/session'],
  ['GET /use-cases', OPERATOR, '/api/use-cases'],
  ['GET /use-cases/<use case>', OPERATOR, '/api/use-cases/pump-maintenance'],
  // Fits the baseline of each KPI with one and looks for recommendations: reads of the store.
  ['GET /use-cases/<use case>/savings', OPERATOR, '/api/use-cases/hvac-energy/savings'],
  ['GET /fleet', OPERATOR, '/api/fleet'],
  ['GET /alerts', OPERATOR, '/api/alerts'],
  ['GET /alerts/<id>', OPERATOR, alertPath],
  ['GET /alerts/<id>/series', OPERATOR, `${alertPath}/series`],
  ['GET /alerts/<id>/savings', OPERATOR, `${alertPath}/savings`],
  [
    'POST /alerts/<id>/decisions',
    OPERATOR,
    `${alertPath}/decisions`,
    { decision: { action: 'acknowledge' } },
  ],
  ['GET /devices', ENGINEER, '/api/devices'],
  ['GET /devices/<use case>/<device>', ENGINEER, device],
  ['GET /devices/<use case>/<device>/series', ENGINEER, `${device}/series`],
  [
    'POST /devices/<use case>/<device>/rebaseline',
    ENGINEER,
    `${device}/rebaseline`,
    { note: 'bearing replaced' },
  ],
  ['GET /silences', ENGINEER, '/api/silences'],
  [
    'POST /silences',
    ENGINEER,
    '/api/silences',
    {
      useCase: 'pump-maintenance',
      scope: { kind: 'device', deviceId: 'pump-001' },
      from: Date.now(),
      to: Date.now() + 3_600_000,
      reason: 'seal change',
    },
  ],
  // Reads two weeks of the store for the recommendations; an empty store supports none.
  [
    'POST /recommendations',
    ENGINEER,
    '/api/recommendations',
    { useCase: 'hvac-energy', id: 'fansAfterHours/ahu-001' },
  ],
];

/** What a route answers other than success, where the walk's data cannot make one. */
const EXPECTED: Partial<Record<(typeof OPERATOR_ROUTES)[number], string>> = {
  'POST /recommendations':
    '404 {"error":"no current recommendation \\"fansAfterHours/ahu-001\\" for hvac-energy (current: none)"}',
};

/** One deployment's console: its function, a DynamoDB engine with its tables, and its store. */
async function deploymentOf(
  deployment: Deployment,
): Promise<{ deployed: DeployedFunction; dynamo: DynamoServer }> {
  const deployed = deployedFunction(deployment, 'Console/ApiFunction');
  const dynamo = await startDynamoServer();
  const template = deployedTemplate(deployment);
  for (const table of [deployed.env.ALERT_TABLE, deployed.env.KPI_TABLE])
    await dynamo.createTable(template, table ?? '');
  // What the ingest function would have written: an open alert (by transaction, which dynalite
  // lacks, so here as the item the store keeps) and the device's baseline.
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  await documents.send(new PutCommand({ TableName: deployed.env.ALERT_TABLE, Item: alertRecord(alert) }));
  await new DynamoDbAlertStore(documents, deployed.env.ALERT_TABLE ?? '').save(
    calibratingBaseline('pump-maintenance', 'pump-001', 40, 1),
  );
  if (deployed.env.INFLUX_BUCKETS) {
    const buckets = JSON.parse(deployed.env.INFLUX_BUCKETS) as Record<string, string>;
    for (const bucket of Object.values(buckets)) await influx.createDatabase(bucket);
  }
  return { deployed, dynamo };
}

beforeAll(async () => {
  influx = await startInfluxServer();
  // What the function's SDK clients find in Lambda's environment.
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  timestream.on(TimestreamQuery).resolves({ ColumnInfo: [], Rows: [] });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
  // The use-case page lists the model's versions: one candidate a fine-tuning job registered.
  sagemaker.on(ListModelPackagesCommand).callsFake((input: { ModelPackageGroupName: string }) => ({
    ModelPackageSummaryList: [
      {
        ModelPackageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${input.ModelPackageGroupName.toLowerCase()}/2`,
        ModelPackageVersion: 2,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: 'PendingManualApproval',
        CreationTime: new Date(),
      },
    ],
  }));
  sagemaker.on(DescribeModelPackageCommand).resolves({
    ModelPackageVersion: 2,
    ModelApprovalStatus: 'PendingManualApproval',
    ModelPackageDescription: 'fine-tuned by itself after 3 false-positive verdicts since the last candidate',
    CustomerMetadataProperties: { normal_flagged_share: '0.01', live_normal_flagged_share: '0.4' },
  });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const mock of [timestream, events, secrets, sagemaker]) mock.restore();
  await influx.stop();
});

describe.each(['LiveAnalytics, trained models', 'InfluxDB, trained models'] as const)(
  'the console API of a deployment with %s, as deployed',
  (deployment) => {
    let deployed: DeployedFunction;
    let dynamo: DynamoServer;
    /** Every command the console's DynamoDB document client sends, recorded on its way to dynalite. */
    let sent: MockInstance<DynamoDBDocumentClient['send']>;

    beforeAll(async () => {
      ({ deployed, dynamo } = await deploymentOf(deployment));
      vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
      for (const mock of [timestream, events, secrets, sagemaker]) mock.resetHistory();
      clearCaches();
      sent = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    });

    afterAll(async () => {
      sent.mockRestore();
      await dynamo.stop();
    });

    it('GIVEN every route the console serves WHEN an operator and an engineer use each THEN each answers, every AWS call is one its role allows, and the role allows nothing else', async () => {
      expect(WALK.map(([route]) => route).sort()).toEqual([...OPERATOR_ROUTES].sort());
      const handler = createConsoleHandler(consoleApiFromEnv(onInfluxServer(deployed.env, influx)));

      const answers = [];
      let useCasePage: { models?: { status: string; metrics: Record<string, string> }[] } = {};
      for (const [route, claims, path, body] of WALK) {
        const response = await handler(
          httpApiRequest(route.split(' ')[0] ?? '', path, claims, body ? { body: JSON.stringify(body) } : {}),
        );
        const status = response.statusCode ?? 0;
        const done = status >= 200 && status < 300;
        answers.push([route, done ? 'done' : `${status} ${response.body ?? ''}`]);
        if (route === 'GET /use-cases/<use case>')
          useCasePage = JSON.parse(response.body ?? '{}') as typeof useCasePage;
      }

      expect(answers).toEqual(WALK.map(([route]) => [route, EXPECTED[route] ?? 'done']));
      // The use-case page lists the pending candidate with the comparison it was registered with.
      expect(useCasePage.models?.[0]).toMatchObject({
        status: 'pending',
        metrics: { live_normal_flagged_share: '0.4' },
      });
      const dynamodb = { calls: () => sent.mock.calls.map((args) => ({ args })) };
      const requests = iamRequestsOf([dynamodb, timestream, events, secrets, sagemaker]);
      expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
      expect(unusedGrants(deployed.policies, requests)).toEqual([]);
      expect(servicesWithoutEndpoint(deployment, deployed, requests)).toEqual([]);
    });
  },
);
