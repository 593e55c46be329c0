import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { openAlert } from '../support/alerts.ts';
import type { FleetDevice } from '../../core/operators/views.ts';
import { actorFromClaims, consoleApiFromEnv, createConsoleHandler } from '../../lambdas/console/handler.ts';
import { telemetryTablesFromEnv } from '../../lambdas/shared/telemetry-backend.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { httpApiRequest } from '../support/http-api-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const timestream = mockClient(TimestreamQueryClient);
/** The console API as deployed: environment from the synthesized template. */
const deployed = deployedFunction('LiveAnalytics, no trained model', 'Console/ApiFunction');
const PUMP_TABLES = telemetryTablesFromEnv(deployed.env).get('pump-maintenance');
const handler = createConsoleHandler(consoleApiFromEnv(deployed.env));

const alert: Alert = openAlert(
  { useCase: 'pump-maintenance', deviceId: 'pump-001', inference: 'pump-anomaly', group: 'line-1' },
  Date.now() - 600_000,
  'pump-maintenance:pump-001:pump-anomaly:1',
);

const request = httpApiRequest;

const columns = (...names: string[]) =>
  names.map((Name) => ({ Name, Type: { ScalarType: 'VARCHAR' as const } }));

const OPERATOR_CLAIMS = { username: 'olu', 'cognito:groups': '[operators]' };

beforeEach(() => {
  documents.reset();
  events.reset();
  timestream.reset();
});

afterAll(() => {
  documents.restore();
  events.restore();
  timestream.restore();
});

describe('actorFromClaims', () => {
  it.each([
    [
      { username: 'olu', 'cognito:groups': '[operators]' },
      { name: 'olu', role: 'operator' },
    ],
    [
      { username: 'dana', 'cognito:groups': '[analysts reliability-engineers]' },
      { name: 'dana', role: 'reliability-engineer' },
    ],
    [
      { 'cognito:username': 'ann@plant.example', 'cognito:groups': ['auditors'] },
      { name: 'ann@plant.example', role: 'auditor' },
    ],
  ])('GIVEN claims %j THEN the actor is %j', (claims, actor) => {
    expect(actorFromClaims(claims)).toEqual(actor);
  });

  it('GIVEN a user in no console group THEN there is no actor, and the error says whom to ask', () => {
    expect(actorFromClaims({ username: 'eve', 'cognito:groups': '[admins]' })).toEqual({
      error: expect.stringContaining('ask an administrator') as unknown,
    });
    expect(actorFromClaims({ username: 'eve' })).toHaveProperty('error');
  });
});

describe('console API handler', () => {
  it('GIVEN an operator token WHEN they call an alert a false positive THEN DynamoDB keeps the verdict with the token user and an event goes on the bus', async () => {
    documents.on(GetCommand).resolves({ Item: { alert: JSON.stringify(alert) } });
    documents.on(PutCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });

    const response = await handler(
      request('POST', `/api/alerts/${encodeURIComponent(alert.id)}/decisions`, OPERATOR_CLAIMS, {
        body: Buffer.from(
          JSON.stringify({ decision: { action: 'false-positive', reason: 'sensor-fault' } }),
        ).toString('base64'),
        base64: true,
      }),
    );

    expect(response.statusCode).toBe(200);
    const saved = documents
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input.Item)
      .find((item) => item?.sk === 'ALERT');
    const kept = JSON.parse(String(saved?.alert)) as Alert;
    expect(kept).toMatchObject({ status: 'false-positive', verdict: { reason: 'sensor-fault' } });
    expect(kept.history.at(-1)?.actor).toEqual({ name: 'olu', role: 'operator' });
    const feedback = documents
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input.Item)
      .find((item) => String(item?.sk).startsWith('FEEDBACK#'));
    expect(JSON.parse(String(feedback?.feedback))).toMatchObject({
      actor: { name: 'olu', role: 'operator' },
    });
    const detailTypes = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(detailTypes.map((e) => e.DetailType)).toContain('Feedback Given');
  });

  it('GIVEN a body that names an actor WHEN it is sent THEN it is refused: only the token says who acts', async () => {
    const response = await handler(
      request('POST', '/api/alerts/a/decisions', OPERATOR_CLAIMS, {
        body: JSON.stringify({
          actor: { name: 'boss', role: 'reliability-engineer' },
          decision: { action: 'acknowledge' },
        }),
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(documents.commandCalls(PutCommand)).toEqual([]);
  });

  it('GIVEN an analyst token WHEN they try to silence a pump THEN 403, and nothing is written', async () => {
    const response = await handler(
      request(
        'POST',
        '/api/silences',
        { username: 'ana', 'cognito:groups': '[analysts]' },
        {
          body: JSON.stringify({
            useCase: 'pump-maintenance',
            scope: { kind: 'device', deviceId: 'pump-001' },
            from: 0,
            to: 1,
            reason: 'quiet',
          }),
        },
      ),
    );
    expect(response.statusCode).toBe(403);
    expect(documents.commandCalls(PutCommand)).toEqual([]);
  });

  it('GIVEN a token in no console group THEN every route answers 403 before any read', async () => {
    const response = await handler(
      request('GET', '/api/alerts', { username: 'eve', 'cognito:groups': '[admins]' }),
    );
    expect(response.statusCode).toBe(403);
    expect(documents.calls()).toEqual([]);
  });

  it('GIVEN the fleet page WHEN it loads THEN last-seen and model come from Timestream and the edge backlog from the health snapshot items', async () => {
    timestream.on(TimestreamQuery).callsFake((input: { QueryString: string }) =>
      !input.QueryString.includes("use_case = 'pump-maintenance'")
        ? { ColumnInfo: columns('device_id'), Rows: [] }
        : input.QueryString.includes('max_by(model_version')
          ? {
              ColumnInfo: columns('device_id', 'model_version'),
              Rows: [{ Data: [{ ScalarValue: 'pump-001' }, { ScalarValue: 'm7' }] }],
            }
          : {
              ColumnInfo: columns('device_id', 'last_ms'),
              Rows: [{ Data: [{ ScalarValue: 'pump-001' }, { ScalarValue: String(Date.now() - 2000) }] }],
            },
    );
    documents
      .on(QueryCommand)
      .callsFake(
        (input: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, string> }) =>
          input.ExpressionAttributeValues[':pk'] === 'HEALTH#pump-maintenance'
            ? {
                Items: [
                  {
                    pk: 'HEALTH#pump-maintenance',
                    sk: 'pump-001',
                    receivedAt: Date.now() - 30_000,
                    queueDepth: 40,
                    oldestAgeSeconds: 95,
                  },
                ],
              }
            : { Items: [] },
      );

    const response = await handler(request('GET', '/api/fleet', OPERATOR_CLAIMS));

    expect(response.statusCode).toBe(200);
    const { devices } = JSON.parse(String(response.body)) as { devices: FleetDevice[] };
    expect(devices).toEqual([
      expect.objectContaining({
        deviceId: 'pump-001',
        online: true,
        modelVersion: 'm7',
        backlog: 40,
        oldestBufferedSeconds: 95,
      }),
    ]);
    const sql = timestream.commandCalls(TimestreamQuery).map((c) => c.args[0].input.QueryString ?? '');
    expect(sql.every((q) => q.includes('ago(24h)'))).toBe(true);
  });

  it("GIVEN an alert's plot WHEN it is asked for THEN Timestream averages its contributors into buckets, with quoted values", async () => {
    documents.on(GetCommand).resolves({ Item: { alert: JSON.stringify({ ...alert, deviceId: "pump-'1" }) } });
    timestream.on(TimestreamQuery).resolves({ ColumnInfo: columns('t'), Rows: [] });

    const response = await handler(
      request('GET', `/api/alerts/${encodeURIComponent(alert.id)}/series`, OPERATOR_CLAIMS),
    );

    expect(response.statusCode).toBe(200);
    const [readings, scores] = timestream
      .commandCalls(TimestreamQuery)
      .map((c) => c.args[0].input.QueryString ?? '');
    expect(readings).toMatch(
      /^SELECT to_milliseconds\(bin\(time, \d+ms\)\) AS t, avg\(flow_rate\) AS flow_rate FROM "[^"]+"."[^"]+"/,
    );
    expect(readings).toContain("device_id = 'pump-''1'");
    expect(readings).toContain(`FROM "${PUMP_TABLES?.databaseName}"."${PUMP_TABLES?.tableName}"`);
    expect(scores).toContain(`FROM "${PUMP_TABLES?.databaseName}"."${PUMP_TABLES?.inferencesTableName}"`);
  });

  it("GIVEN drift findings in the table WHEN a device page loads THEN it lists that device's findings, newest first", async () => {
    const finding = (deviceId: string, check: string) =>
      JSON.stringify({
        useCase: 'pump-maintenance',
        deviceId,
        check,
        summary: `${check} of ${deviceId}`,
        at: Date.now(),
      });
    documents.on(GetCommand).resolves({});
    documents.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) =>
      input.ExpressionAttributeValues[':pk'] === 'DRIFT#pump-maintenance'
        ? {
            Items: [
              { pk: 'DRIFT#pump-maintenance', sk: 'b', finding: finding('pump-001', 'flat-line') },
              { pk: 'DRIFT#pump-maintenance', sk: 'a', finding: finding('pump-002', 'data-gaps') },
            ],
          }
        : { Items: [] },
    );
    timestream.on(TimestreamQuery).resolves({
      ColumnInfo: columns('device_id', 'last_ms'),
      Rows: [{ Data: [{ ScalarValue: 'pump-001' }, { ScalarValue: String(Date.now()) }] }],
    });

    const response = await handler(request('GET', '/api/devices/pump-maintenance/pump-001', OPERATOR_CLAIMS));

    expect(response.statusCode).toBe(200);
    const body = JSON.parse(String(response.body)) as { findings: { deviceId: string; check: string }[] };
    expect(body.findings.map((f) => [f.deviceId, f.check])).toEqual([['pump-001', 'flat-line']]);
    const drift = documents
      .commandCalls(QueryCommand)
      .find((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'] === 'DRIFT#pump-maintenance');
    expect(drift?.args[0].input).toMatchObject({
      ScanIndexForward: false,
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
    });
    // One device's page reads that device's activity only.
    const sql = timestream.commandCalls(TimestreamQuery).map((c) => c.args[0].input.QueryString ?? '');
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.every((q) => q.includes("device_id = 'pump-001'"))).toBe(true);
    const health = documents
      .commandCalls(QueryCommand)
      .find((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'] === 'HEALTH#pump-maintenance');
    expect(health?.args[0].input.ExpressionAttributeValues).toMatchObject({ ':sk': 'pump-001' });
  });

  it.each([
    [
      'an oversized body',
      request('POST', '/api/silences', OPERATOR_CLAIMS, { body: 'x'.repeat(70_000) }),
      413,
    ],
    ['a route it does not serve', request('DELETE', '/api/alerts/a', OPERATOR_CLAIMS), 404],
    ['an unknown use case', request('GET', '/api/use-cases/nope', OPERATOR_CLAIMS), 404],
  ])('GIVEN %s THEN it answers with its status and an error body', async (_what, event, status) => {
    const response = await handler(event);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(String(response.body))).toEqual({ error: expect.any(String) as unknown });
  });

  it('GIVEN DynamoDB fails WHEN a read needs it THEN 500 names the request id and no internals', async () => {
    documents.on(GetCommand).rejects(new Error('ProvisionedThroughputExceededException: table alert-state'));
    const response = await handler(request('GET', '/api/alerts/a-1', OPERATOR_CLAIMS));
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe(JSON.stringify({ error: 'internal error; request id req-1' }));
  });
});
