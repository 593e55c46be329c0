import { clearCaches } from '@aws-lambda-powertools/parameters';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDriftHandler, driftDependenciesFromEnv } from '../../lambdas/drift/handler.ts';
import { createHandler, dependenciesFromEnv } from '../../lambdas/ingest/handler.ts';
import { createKpiHandler, kpiDependenciesFromEnv } from '../../lambdas/kpi/handler.ts';
import { deployedFunction, servicesWithoutEndpoint } from '../support/deployed-functions.ts';
import { describedAs, FLOW_RATE_MODEL } from '../support/model-descriptions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { onInfluxServer, startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { inbound, reading } from '../support/messages.ts';
import { at, sqsEvent } from '../support/sqs.ts';

/**
 * The drift and KPI functions of a deployment with the InfluxDB store, as deployed: environment
 * and role from the synthesized template, the readings in a real influxd (only the instance's
 * address is the test server's), the token from Secrets Manager and the alert table, bus and
 * endpoint answered at the network edge. Each AWS call is one the function's role allows, and its
 * role allows nothing the runs did not use.
 */
const DEPLOYMENT = 'InfluxDB, trained models';
const secrets = mockClient(SecretsManagerClient);
const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
let server: InfluxServer;

/** Ten minutes of pump-007 at one reading a second, its flow far above the model's range, 30 s lost. */
// From the arrival time the test messages carry, as a device sends them.
const START = Date.parse(at(0));
const NOW = START + 600_000;
const SECONDS = Array.from({ length: 600 }, (_, i) => i).filter((i) => i < 300 || i >= 330);

beforeAll(async () => {
  server = await startInfluxServer();
  const ingest = deployedFunction(DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function');
  const drift = deployedFunction(DEPLOYMENT, 'Drift/Function');
  const buckets = JSON.parse(drift.env.INFLUX_BUCKETS ?? '{}') as Record<string, string>;
  for (const bucket of Object.values(buckets)) await server.createDatabase(bucket);
  // The readings arrive as they would: through the ingest function of the same deployment.
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
  s3.on(PutObjectCommand).resolves({});
  const store = createHandler(dependenciesFromEnv(onInfluxServer(ingest.env, server)));
  const messages = SECONDS.map((i) =>
    inbound(
      reading({
        deviceId: 'pump-007',
        seq: i,
        timestamp: new Date(START + i * 1000).toISOString(),
        measures: { flowRate: 31.5 },
      }),
      { thing: 'pump-007' },
    ),
  );
  expect((await store(sqsEvent(messages))).batchItemFailures).toEqual([]);
});

beforeEach(() => {
  // Each function runs in a process of its own: none finds a token another one fetched.
  clearCaches();
  for (const mock of [secrets, documents, events, runtime]) mock.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
  documents.on(QueryCommand).resolves({ Items: [] });
  documents.on(GetCommand).resolves({});
  documents.on(BatchWriteCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  runtime.on(InvokeEndpointCommand).resolves(describedAs(FLOW_RATE_MODEL));
});

afterAll(async () => {
  for (const mock of [secrets, documents, events, runtime, s3]) mock.restore();
  await server.stop();
});

describe('the readers of a deployment with the InfluxDB store', () => {
  it('GIVEN lost readings and flow rates the model never saw WHEN the drift checks run THEN every AWS call is one their role allows, and the role allows nothing else', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'Drift/Function');
    const run = createDriftHandler({
      ...driftDependenciesFromEnv(onInfluxServer(deployed.env, server)),
      clock: { now: () => NOW },
    });

    const report = await run({ useCase: 'pump-maintenance' });
    await run({ useCase: 'hvac-energy' });

    expect(report.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['data-gaps', 'data-drift']));
    const requests = iamRequestsOf([secrets, documents, events, runtime]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    expect(servicesWithoutEndpoint(DEPLOYMENT, deployed, requests)).toEqual([]);
  });

  it("GIVEN the stored readings WHEN each use case's KPIs are computed THEN every AWS call is one the role allows, and the role allows nothing else", async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'Kpis/Function');
    const run = createKpiHandler({
      ...kpiDependenciesFromEnv(onInfluxServer(deployed.env, server)),
      clock: { now: () => NOW + 86_400_000 },
    });

    const pumps = await run({ useCase: 'pump-maintenance' });
    await run({ useCase: 'hvac-energy' });

    expect(pumps.computed.some((day) => day.coverage > 0)).toBe(true);
    // The M&V series for the dashboard, in the use case's bucket with the token the template names.
    const buckets = JSON.parse(deployed.env.INFLUX_BUCKETS ?? '{}') as Record<string, string>;
    const savings = (await server.influxql(
      "SELECT status, reporting_intervals FROM kpi_savings WHERE kpi = 'unplanned-downtime'",
      buckets['pump-maintenance'] ?? '',
    )) as { results: { series?: { values: unknown[][] }[] }[] };
    expect(savings.results[0]?.series?.[0]?.values).toEqual([[NOW + 86_400_000, 'too little data', 0]]);
    const requests = iamRequestsOf([secrets, documents]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    expect(servicesWithoutEndpoint(DEPLOYMENT, deployed, requests)).toEqual([]);
  });
});
