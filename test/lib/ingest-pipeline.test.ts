import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { IngestPipeline, type IngestPipelineProps } from '../../lib/constructs/ingest-pipeline.ts';
import { TelemetryDatabase } from '../../lib/constructs/telemetry-database.ts';
import { constructHarness, pipelineStack, testApp } from '../support/cdk.ts';

function build(props: Partial<IngestPipelineProps> = {}) {
  const { stack, key, bucket } = constructHarness();
  const database = new TelemetryDatabase(stack, 'Db', {
    memoryRetention: Duration.hours(24),
    magneticRetention: Duration.days(365),
    encryptionKey: key,
    rejectedRecordsBucket: bucket,
  });
  const pipeline = new IngestPipeline(stack, 'Ingest', {
    useCase: 'pump-maintenance',
    contract: 'pump.telemetry@1',
    database,
    quarantineBucket: bucket,
    encryptionKey: key,
    ...props,
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

describe('IngestPipeline', () => {
  it('routes the telemetry topic through a rule that adds thing, client id and broker time', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: Match.stringLikeRegexp(
          "topic\\(3\\) AS thing, clientid\\(\\) AS clientId, timestamp\\(\\) AS receivedAt FROM 'dt/pump-maintenance/\\+/telemetry'",
        ),
        AwsIotSqlVersion: '2016-03-23',
        Actions: [{ Sqs: Match.objectLike({ UseBase64: false }) }],
        ErrorAction: {
          S3: Match.objectLike({ Key: Match.stringLikeRegexp('^undeliverable/use_case=pump-maintenance/') }),
        },
      }),
    });
  });

  it('queues on an encrypted queue with a dead-letter queue after the given receives', () => {
    const { template } = build({ maxReceiveCount: 3 });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
      VisibilityTimeout: 180,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('runs the ingest function on arm64 with partial batch failures', () => {
    const { template } = build({ batchSize: 250, maxBatchingWindow: Duration.seconds(5) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: Match.objectLike({
          USE_CASE: 'pump-maintenance',
          CONTRACT: 'pump.telemetry@1',
          TIMESTREAM_TABLE: 'telemetry',
          // Magnetic retention of the database: the oldest reading Timestream still takes.
          MAX_RECORD_AGE_DAYS: '365',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the function write only to its table and its quarantine prefix', () => {
    const { template, stack } = build();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) =>
      JSON.stringify(Stack.of(stack).resolve(p)),
    );
    const functionPolicy = policies.find((p) => p.includes('timestream:WriteRecords'));
    expect(functionPolicy).toBeDefined();
    expect(functionPolicy).toContain('/quarantine/*');
    expect(functionPolicy).not.toMatch(/"s3:\*"|"s3:Abort\*"|"kms:ReEncrypt\*"|"timestream:\*"/);
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize must be an integer from 1 to 10000, got 0'],
    [{ batchSize: 20_000 }, 'batchSize must be an integer from 1 to 10000, got 20000'],
    [
      { batchSize: 50, maxBatchingWindow: Duration.seconds(0) },
      'batchSize above 10 needs a maxBatchingWindow above zero, got batchSize 50',
    ],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount must be a positive integer, got 0'],
  ])('refuses %o with the bad value in the message', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it('bundles the handler into one file with esbuild', () => {
    const app = testApp({ bundle: true });
    pipelineStack(app);
    const assembly = app.synth();
    const bundles = readdirSync(assembly.directory)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(assembly.directory, name, 'index.js'))
      .filter((file) => existsSync(file));
    expect(bundles).toHaveLength(1);
    // The SDK is bundled on purpose; this bound catches an accidental dependency explosion.
    expect(statSync(bundles[0] ?? '').size).toBeLessThan(3 * 1024 * 1024);
  });
});

describe('TelemetryDatabase', () => {
  function database(memoryHours: number, magneticDays: number) {
    const { stack, key, bucket } = constructHarness();
    new TelemetryDatabase(stack, 'Db', {
      memoryRetention: Duration.hours(memoryHours),
      magneticRetention: Duration.days(magneticDays),
      encryptionKey: key,
      rejectedRecordsBucket: bucket,
    });
    return Template.fromStack(stack);
  }

  it('creates an encrypted database and a telemetry table with both retentions and magnetic-store writes', () => {
    const template = database(48, 400);
    template.hasResourceProperties('AWS::Timestream::Database', { KmsKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::Timestream::Table', {
      TableName: 'telemetry',
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: '48',
        MagneticStoreRetentionPeriodInDays: '400',
      },
      MagneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: Match.objectLike({
            EncryptionOption: 'SSE_KMS',
            ObjectKeyPrefix: Match.stringLikeRegexp('^timestream-rejected/'),
          }),
        },
      },
    });
  });

  it.each([
    [0, 10, 'memoryRetention must be 1 to 8766 hours, got 0'],
    [9000, 10, 'memoryRetention must be 1 to 8766 hours, got 9000'],
    [24, 80_000, 'magneticRetention must be 1 to 73000 days, got 80000'],
  ])('refuses memory %i h / magnetic %i d', (hours, days, message) => {
    expect(() => database(hours, days)).toThrow(message);
  });
});
