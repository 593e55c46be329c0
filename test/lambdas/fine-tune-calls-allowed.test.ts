import { clearCaches } from '@aws-lambda-powertools/parameters';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTrainingJobsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FeedbackRecord } from '../../core/alerts/ports.ts';
import { feedbackIndexSchema } from '../../core/model/fine-tune-data.ts';
import { createHandler, dependenciesFromEnv } from '../../lambdas/ingest/handler.ts';
import {
  createFineTuneRegisterHandler,
  fineTuneRegisterDependenciesFromEnv,
} from '../../lambdas/fine-tune/register.ts';
import {
  createFineTuneStartHandler,
  fineTuneStartDependenciesFromEnv,
} from '../../lambdas/fine-tune/start.ts';
import { deployedFunction, servicesWithoutEndpoint } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';
import { onInfluxServer, startInfluxServer, type InfluxServer } from '../support/influxdb.ts';
import { inbound, reading } from '../support/messages.ts';
import { at, sqsEvent } from '../support/sqs.ts';

/**
 * Fine-tuning in the cloud as deployed: the start and register functions with their environment
 * and role from the synthesized template, the readings in a real influxd, the verdicts in the
 * alert table and SageMaker answered at the network edge. Each AWS call is one the role allows,
 * the role allows nothing the runs did not use, and each service is reachable from the VPC.
 */
const DEPLOYMENT = 'InfluxDB, trained models';
const USE_CASE = 'pump-maintenance';
const secrets = mockClient(SecretsManagerClient);
const documents = mockClient(DynamoDBDocumentClient);
const events = mockClient(EventBridgeClient);
const sagemaker = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
let server: InfluxServer;

const START = Date.parse(at(0));
const NOW = START + 3_600_000;
const ACTOR = { name: 'olu', role: 'operator' } as const;

/** A "false positive: normal operation" verdict on pump-007, or a confirmed fault. */
function verdict(minute: number, label: FeedbackRecord['label']): { feedback: string } {
  const record: FeedbackRecord = {
    alertId: `a-${minute}`,
    useCase: USE_CASE,
    deviceId: 'pump-007',
    inference: 'anomaly',
    label,
    detail: label === 'normal' ? 'normal-operation' : 'bearing-wear',
    workOrder: null,
    from: START + minute * 60_000,
    to: START + (minute + 1) * 60_000,
    sensor: null,
    note: '',
    actor: ACTOR,
    at: START + (minute + 2) * 60_000,
  };
  return { feedback: JSON.stringify(record) };
}

beforeAll(async () => {
  server = await startInfluxServer();
  const ingest = deployedFunction(DEPLOYMENT, `UseCase-${USE_CASE}/Ingest/Function`);
  const start = deployedFunction(DEPLOYMENT, 'ModelFineTuning/StartFunction');
  const buckets = JSON.parse(start.env.INFLUX_BUCKETS ?? '{}') as Record<string, string>;
  for (const bucket of Object.values(buckets)) await server.createDatabase(bucket);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
  const store = createHandler(dependenciesFromEnv(onInfluxServer(ingest.env, server)));
  const messages = Array.from({ length: 600 }, (_, i) =>
    inbound(reading({ deviceId: 'pump-007', seq: i, timestamp: new Date(START + i * 1000).toISOString() }), {
      thing: 'pump-007',
    }),
  );
  expect((await store(sqsEvent(messages))).batchItemFailures).toEqual([]);
});

beforeEach(() => {
  clearCaches();
  for (const mock of [secrets, documents, events, sagemaker, s3]) mock.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'token' }) });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

afterAll(async () => {
  for (const mock of [secrets, documents, events, sagemaker, s3]) mock.restore();
  await server.stop();
});

describe('fine-tuning in the cloud: every AWS call is one the role in the template allows', () => {
  it('GIVEN three false positives since the last candidate WHEN a verdict arrives THEN the start function exports the readings and verdicts and starts a training job from the live model', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'ModelFineTuning/StartFunction');
    documents.on(QueryCommand).resolves({
      Items: [verdict(1, 'normal'), verdict(3, 'normal'), verdict(5, 'anomaly'), verdict(7, 'normal')],
    });
    sagemaker.on(ListTrainingJobsCommand).resolves({ TrainingJobSummaries: [] });
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    sagemaker
      .on(DescribeEndpointCommand)
      .resolves({ EndpointConfigName: 'pump-maintenance-v0-20261206100000' });
    sagemaker.on(DescribeEndpointConfigCommand).resolves({
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'pump-maintenance-v0-20261206100000' }],
    });
    sagemaker.on(DescribeModelCommand).resolves({
      PrimaryContainer: { ModelDataUrl: 's3://artifacts/models/pump-maintenance/job/output/model.tar.gz' },
    });
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn' });
    const written = new Map<string, string>();
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
      written.set(input.Key, input.Body);
      return {};
    });
    const run = createFineTuneStartHandler({
      ...fineTuneStartDependenciesFromEnv(onInfluxServer(deployed.env, server)),
      clock: { now: () => NOW },
    });

    const outcome = await run({
      'detail-type': 'Audit Event',
      detail: { kind: 'alert-verdict', useCase: USE_CASE },
    });

    expect(outcome).toMatchObject({
      action: 'started',
      job: expect.stringMatching(/^pump-maintenance-ft-\d{14}$/) as unknown,
    });
    const [indexKey, indexBody = ''] = [...written].find(([key]) => key.endsWith('feedback.json')) ?? [];
    expect(indexKey).toMatch(
      /^training-data\/pump-maintenance\/fine-tune\/pump-maintenance-ft-\d{14}\/feedback\.json$/,
    );
    const index = feedbackIndexSchema.parse(JSON.parse(indexBody));
    expect(index.labels.map((l) => l.label)).toEqual(['normal', 'normal', 'anomaly', 'normal']);
    const csv = [...written].find(([key]) => key.endsWith(index.devices[0]?.file ?? '?'))?.[1] ?? '';
    expect(csv.trim().split('\n')).toHaveLength(601);
    const job = sagemaker.commandCalls(CreateTrainingJobCommand)[0]?.args[0].input;
    expect(job?.InputDataConfig?.map((c) => c.ChannelName)).toEqual(['feedback', 'live']);
    expect(job?.EnableNetworkIsolation).toBe(true);
    const requests = iamRequestsOf([secrets, documents, events, sagemaker, s3]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    expect(servicesWithoutEndpoint(DEPLOYMENT, deployed, requests)).toEqual([]);
  });

  it('GIVEN two false positives and a job that ended since WHEN the hourly check runs THEN nothing starts', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'ModelFineTuning/StartFunction');
    documents.on(QueryCommand).resolves({ Items: [verdict(1, 'normal'), verdict(3, 'normal')] });
    sagemaker.on(ListTrainingJobsCommand).resolves({
      TrainingJobSummaries: [
        {
          TrainingJobName: 'pump-maintenance-ft-20261201000000',
          TrainingJobArn: 'arn',
          TrainingJobStatus: 'Completed',
          CreationTime: new Date(START - 60_000),
        },
      ],
    });
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    const run = createFineTuneStartHandler({
      ...fineTuneStartDependenciesFromEnv(onInfluxServer(deployed.env, server)),
      clock: { now: () => NOW },
    });

    const outcome = await run({ useCase: USE_CASE });

    expect(outcome).toEqual({
      action: 'ignored',
      why: '2 false positives since the last candidate: not due',
    });
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });

  it('GIVEN a fine-tuning job that completed WHEN its state change arrives THEN the register function registers its candidate pending approval with the comparison', async () => {
    const deployed = deployedFunction(DEPLOYMENT, 'ModelFineTuning/RegisterFunction');
    const job = 'pump-maintenance-ft-20261207030000';
    sagemaker.on(DescribeTrainingJobCommand).resolves({
      TrainingJobName: job,
      TrainingJobStatus: 'Completed',
      HyperParameters: {
        model_version: USE_CASE,
        reason: 'fine-tuned by itself after 3 false-positive verdicts since the last candidate',
      },
      ModelArtifacts: {
        S3ModelArtifacts: `s3://artifacts/models/pump-maintenance/${job}/output/model.tar.gz`,
      },
      FinalMetricDataList: [
        { MetricName: 'normal_flagged_share', Value: 0.01 },
        { MetricName: 'live_normal_flagged_share', Value: 0.4 },
      ],
    });
    sagemaker
      .on(CreateModelPackageCommand)
      .resolves({ ModelPackageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/x/4' });
    const run = createFineTuneRegisterHandler(fineTuneRegisterDependenciesFromEnv(deployed.env));

    const outcome = await run({
      'detail-type': 'SageMaker Training Job State Change',
      detail: { TrainingJobName: job, TrainingJobStatus: 'Completed' },
    });

    expect(outcome.action).toBe('registered');
    const registered = sagemaker.commandCalls(CreateModelPackageCommand)[0]?.args[0].input;
    expect(registered).toMatchObject({
      ModelApprovalStatus: 'PendingManualApproval',
      ClientToken: job,
      CustomerMetadataProperties: { normal_flagged_share: '0.01', live_normal_flagged_share: '0.4' },
    });
    const audit = JSON.parse(
      events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail ?? '{}',
    ) as Record<string, unknown>;
    expect(audit).toMatchObject({ kind: 'model-trained', actor: { role: 'system' } });
    const requests = iamRequestsOf([events, sagemaker]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    // Its role cannot register a version approved already: approval stays a person's (four eyes).
    const approved = requests
      .filter((r) => r.action === 'sagemaker:CreateModelPackage')
      .map((r) => ({ ...r, context: { 'sagemaker:ModelApprovalStatus': 'Approved' } }));
    expect(approved).toHaveLength(1);
    expect(await deniedRequests(deployed.policies, approved)).toHaveLength(1);
  });
});
