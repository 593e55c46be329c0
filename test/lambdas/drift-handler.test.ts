import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { QueryCommand as TimestreamQuery, TimestreamQueryClient } from '@aws-sdk/client-timestream-query';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/drift/ports.ts';
import { describeEndpointModel } from '../../lambdas/adapters/sagemaker-model-description.ts';
import { createDriftHandler, driftDependenciesFromEnv } from '../../lambdas/drift/handler.ts';
import { telemetryTablesFromEnv } from '../../lambdas/shared/telemetry-backend.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { describedAs, FLOW_RATE_MODEL } from '../support/model-descriptions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { repoUseCase } from '../support/catalog.ts';

const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const timestream = mockClient(TimestreamQueryClient);
const PUMPS = repoUseCase('pump-maintenance');
const NOW = Date.parse('2026-11-30T12:00:00Z');

/** The drift function as deployed without a model: environment from the synthesized template. */
const deployed = deployedFunction('LiveAnalytics, no trained model', 'Drift/Function');
const TABLE = deployed.env.ALERT_TABLE ?? '';
const BUS = deployed.env.EVENT_BUS_NAME ?? '';
const PUMP_TABLES = telemetryTablesFromEnv(deployed.env).get('pump-maintenance');
const fromTemplate = { ...driftDependenciesFromEnv(deployed.env), clock: { now: () => NOW } };
const handler = createDriftHandler(fromTemplate);

const columns = (...names: string[]) =>
  names.map((Name) => ({ Name, Type: { ScalarType: 'VARCHAR' as const } }));
const READING_COLUMNS = [
  'use_case',
  'device_id',
  'firmware',
  'hardware_generation',
  'contract',
  'time_ms',
  'seq',
  'origin',
  'flow_rate',
];

/** Forty minutes of one pump whose flow meter reads 31.5 throughout, 3 readings lost. */
function readingRows() {
  return Array.from({ length: 2400 }, (_, i) => i)
    .filter((i) => i < 1000 || i > 1002)
    .map((i) => ({
      Data: [
        'pump-maintenance',
        'pump-007',
        'fw',
        'hw',
        'pump.telemetry@1',
        String(NOW - 2400_000 + i * 1000),
        String(i),
        'device',
        '31.5',
      ].map((ScalarValue) => ({ ScalarValue })),
    }));
}

beforeEach(() => {
  documents.reset();
  events.reset();
  timestream.reset();
  timestream.on(TimestreamQuery).callsFake((input: { QueryString: string }) => {
    if (input.QueryString.startsWith('SELECT DISTINCT device_id'))
      return { ColumnInfo: columns('device_id'), Rows: [{ Data: [{ ScalarValue: 'pump-007' }] }] };
    if (input.QueryString.includes(`"${PUMP_TABLES?.inferencesTableName}"`))
      return { ColumnInfo: columns('t'), Rows: [] };
    return { ColumnInfo: columns(...READING_COLUMNS), Rows: readingRows() };
  });
  documents.on(QueryCommand).resolves({ Items: [] });
  documents.on(GetCommand).resolves({});
  documents.on(BatchWriteCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
});

afterAll(() => {
  documents.restore();
  events.restore();
  timestream.restore();
});

describe('drift function', () => {
  it('GIVEN a pump with a frozen flow meter and lost readings WHEN its schedule fires THEN findings and receipts go to the table and each finding is an event on the bus', async () => {
    const report = await handler({ useCase: 'pump-maintenance' });

    expect(report.findings.map((f) => [f.check, f.deviceId, f.sensor])).toEqual([
      ['data-gaps', 'pump-007', null],
      ['flat-line', 'pump-007', 'flowRate'],
    ]);
    const items = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.[TABLE] ?? []);
    const written = items.map((request) => request.PutRequest?.Item ?? {});
    expect(written.filter((item) => String(item.pk) === 'DRIFT#pump-maintenance')).toHaveLength(2);
    expect(written.filter((item) => String(item.pk) === 'RECEIPTS#pump-maintenance#pump-007')).toEqual([
      expect.objectContaining({
        sk: '2026-11-30T11:00:00.000Z',
        received: 2397,
        missing: 3,
        expiresAt: expect.any(Number) as unknown,
      }),
    ]);
    const entries = events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.Source, e.DetailType, e.EventBusName])).toEqual([
      ['aiot.drift', 'Sensor Unhealthy', BUS],
      ['aiot.drift', 'Sensor Unhealthy', BUS],
    ]);
    const detail = JSON.parse(entries[1]?.Detail ?? '{}') as { useCase: string; finding: Finding };
    expect(detail).toMatchObject({
      useCase: 'pump-maintenance',
      finding: { check: 'flat-line', figure: 40 },
    });
    // AND without a model its role allows just these calls: no endpoint to ask
    const requests = iamRequestsOf([documents, events, timestream]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
  });

  it('GIVEN device ids and use case in the queries THEN values are quoted and the window is bounded', async () => {
    await handler({ useCase: 'pump-maintenance' });
    const sql = timestream.commandCalls(TimestreamQuery).map((c) => c.args[0].input.QueryString ?? '');
    expect(sql[0]).toContain(
      `use_case = 'pump-maintenance' AND time >= from_milliseconds(${NOW - 3600_000})`,
    );
    expect(sql.some((q) => q.includes("device_id = 'pump-007'"))).toBe(true);
  });

  it('GIVEN DynamoDB leaves items unprocessed THEN they are written again', async () => {
    let first = true;
    documents.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      if (!first) return {};
      first = false;
      return { UnprocessedItems: { [TABLE]: input.RequestItems[TABLE]?.slice(0, 1) } };
    });
    await handler({ useCase: 'pump-maintenance' });
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(2);
  });

  /** The handler for one manifest, with an endpoint that cannot describe its model. */
  const withoutModel = (manifest: typeof PUMPS) =>
    createDriftHandler({
      ...fromTemplate,
      manifests: new Map([[manifest.id, manifest]]),
      modelOf: () => Promise.reject(new Error('endpoint down')),
    });

  it('GIVEN the endpoint cannot describe its model THEN the other checks still run', async () => {
    const report = await withoutModel(PUMPS)({ useCase: 'pump-maintenance' });
    expect(report.findings.map((f) => f.check)).toEqual(['data-gaps', 'flat-line']);
  });

  it('GIVEN the frozen sensor listed in flatLine.ignore (a setpoint holds by design) THEN no flat-line finding for it', async () => {
    const holdsByDesign = {
      ...PUMPS,
      drift: { ...PUMPS.drift, flatLine: { ...PUMPS.drift.flatLine, ignore: ['measures.flowRate'] } },
    };
    const report = await withoutModel(holdsByDesign)({ useCase: 'pump-maintenance' });
    expect(report.findings.map((f) => f.check)).toEqual(['data-gaps']);
  });

  it('GIVEN an endpoint WHEN asked to describe its model THEN its profile is parsed, and a wrong answer names the endpoint', async () => {
    const sagemaker = mockClient(SageMakerRuntimeClient);
    try {
      const description = FLOW_RATE_MODEL;
      sagemaker.on(InvokeEndpointCommand).resolves(describedAs(description));
      await expect(describeEndpointModel(new SageMakerRuntimeClient({}), 'pumps-endpoint')).resolves.toEqual(
        description,
      );
      expect(
        JSON.parse(sagemaker.commandCalls(InvokeEndpointCommand)[0]?.args[0].input.Body as string),
      ).toEqual({ describe: 'model' });
      sagemaker
        .on(InvokeEndpointCommand)
        .resolves({ Body: new TextEncoder().encode('{"modelVersion":""}') as never });
      await expect(describeEndpointModel(new SageMakerRuntimeClient({}), 'pumps-endpoint')).rejects.toThrow(
        /endpoint pumps-endpoint described its model wrongly/,
      );
    } finally {
      sagemaker.restore();
    }
  });

  it('GIVEN the deployment with trained models WHEN each use case is checked THEN every AWS call is one its role in the template allows, and the role allows nothing else', async () => {
    const withModels = deployedFunction('LiveAnalytics, trained models', 'Drift/Function');
    const sagemaker = mockClient(SageMakerRuntimeClient);
    try {
      sagemaker.on(InvokeEndpointCommand).resolves(describedAs(FLOW_RATE_MODEL));
      const run = createDriftHandler({
        ...driftDependenciesFromEnv(withModels.env),
        clock: { now: () => NOW },
      });
      const pumps = await run({ useCase: 'pump-maintenance' });
      await run({ useCase: 'hvac-energy' });

      expect(pumps.findings.map((f) => f.check)).toContain('data-drift');
      const requests = iamRequestsOf([documents, events, timestream, sagemaker]);
      expect(await deniedRequests(withModels.policies, requests)).toEqual([]);
      expect(unusedGrants(withModels.policies, requests)).toEqual([]);
    } finally {
      sagemaker.restore();
    }
  });

  it.each([
    [{}, /useCase/],
    [{ useCase: 'nope' }, /unknown use case "nope"/],
  ])('GIVEN the event %j THEN the run fails naming why', async (event, message) => {
    await expect(handler(event)).rejects.toThrow(message);
  });
});
