import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { IngestPipeline, type IngestPipelineProps } from '../../lib/constructs/ingest-pipeline.ts';
import { TelemetryDatabase } from '../../lib/constructs/telemetry-database.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { constructHarness, pipelineStack, testApp } from '../support/cdk.ts';
import { pumpTelemetryV1 } from '../support/contracts.ts';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every policy statement of the role of the function whose logical id starts with `functionId`. */
function statementsOf(template: Template, functionId: string): Statement[] {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([id]) => id.startsWith(functionId) && !id.startsWith(`${functionId}Role`))
    .map(([, resource]) => resource as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } });
  const role = fn?.Properties.Role['Fn::GetAtt'][0];
  if (!role) throw new Error(`no function ${functionId}`);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map(
      (policy) =>
        policy as { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } },
    )
    .filter((policy) => policy.Properties.Roles.some((r) => r.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** A resolved `Fn::Join` (or `Ref`, `Fn::GetAtt`) as readable text: references in braces. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  if (object.Ref) return `{${object.Ref}}`;
  if (object['Fn::GetAtt']) return `{${object['Fn::GetAtt'].join('.')}}`;
  if (object['Fn::Join']) return object['Fn::Join'][1].map(joined).join(object['Fn::Join'][0]);
  return JSON.stringify(value);
}

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
    contracts: [pumpTelemetryV1],
    telemetry: database,
    quarantineBucket: bucket,
    encryptionKey: key,
    ...props,
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** What one function's bundle may weigh, by the start of its logical id where it differs. */
const BUNDLE_BUDGET_BYTES = 2 * 1024 * 1024;
const BUNDLE_BUDGETS: Readonly<Record<string, number>> = {
  // Every manifest, contract and operator route compiled in (its environment has no room for them).
  ConsoleApiFunction: 2.5 * 1024 * 1024,
};
const budgetOf = (logicalId: string) =>
  Object.entries(BUNDLE_BUDGETS).find(([prefix]) => logicalId.startsWith(prefix))?.[1] ?? BUNDLE_BUDGET_BYTES;

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

  it('GIVEN ingest falling behind THEN an alarm fires once the oldest queued message is older than maxQueueAge for three minutes', () => {
    const { template, stack } = build({ maxQueueAge: Duration.minutes(10) });
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { MetricName: 'ApproximateAgeOfOldestMessage' },
    });
    const [alarm] = Object.values(alarms) as { Properties: Record<string, unknown> }[];
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 600,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    // On the ingest queue, not its dead-letter queue.
    const queue: unknown = stack.resolve((alarm?.Properties.Dimensions as { Value: unknown }[])[0]?.Value);
    expect(JSON.stringify(queue)).toMatch(/IngestQueue(?!.*DeadLetter)/);
  });

  it('runs the ingest function on arm64 with partial batch failures', () => {
    const { template } = build({ batchSize: 250, maxBatchingWindow: Duration.seconds(5) });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      // The accepted contract versions are compiled in; the description names them for operators.
      Description: 'Validates and stores pump-maintenance telemetry (pump.telemetry@1)',
      Environment: {
        Variables: Match.objectLike({
          USE_CASE: 'pump-maintenance',
          TIMESTREAM_TABLE: 'telemetry',
          // Magnetic retention of the database: the oldest reading Timestream still takes.
          MAX_RECORD_AGE_DAYS: '365',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      // A backlog after an outage drains at this pace, not in a burst the store would throttle.
      ScalingConfig: { MaximumConcurrency: 10 },
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it("GIVEN the replay function THEN it may touch only its use case's quarantine and resolved copies, and write its tables", () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Replays pump-maintenance quarantined messages against pump.telemetry@1',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({ USE_CASE: 'pump-maintenance', QUARANTINE_BUCKET: Match.anyValue() }),
      },
    });
    const statements = statementsOf(template, 'IngestReplayFunction');
    const s3 = statements.filter((statement) => [statement.Action].flat().some((a) => a.startsWith('s3:')));
    expect(
      s3.map((statement) => ({
        actions: [statement.Action].flat().sort(),
        resources: [statement.Resource].flat().map((resource) => joined(resource)),
        condition: statement.Condition,
      })),
    ).toEqual([
      {
        // Its rejected-records prefix comes with the database's write grant, as the ingest function's.
        actions: ['s3:PutObject'],
        resources: [
          '{Bucket83908E77.Arn}/quarantine-resolved/use_case=pump-maintenance/*',
          '{Bucket83908E77.Arn}/timestream-rejected/Harness-Db/*',
        ],
        condition: undefined,
      },
      {
        actions: ['s3:ListBucket'],
        resources: ['{Bucket83908E77.Arn}'],
        condition: { StringLike: { 's3:prefix': ['quarantine/use_case=pump-maintenance/*'] } },
      },
      {
        actions: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        resources: ['{Bucket83908E77.Arn}/quarantine/use_case=pump-maintenance/*'],
        condition: undefined,
      },
    ]);
    expect(statements.some((statement) => statement.Action === 'timestream:WriteRecords')).toBe(true);
  });

  it('lets the function write only to its two tables and its two object prefixes', () => {
    // GIVEN the pipeline's function
    const { template } = build();
    const all = statementsOf(template, 'IngestFunction');
    const statements = all.filter(
      (statement) => statement.Action === 'timestream:WriteRecords' || statement.Action === 's3:PutObject',
    );
    const resourcesOf = (action: string) =>
      statements
        .filter((statement) => statement.Action === action)
        .flatMap((statement) => [statement.Resource].flat());
    // THEN WriteRecords names exactly the telemetry and inferences tables of its database
    const tables = resourcesOf('timestream:WriteRecords').map((resource) => joined(resource));
    expect(tables.sort()).toEqual([
      'arn:{AWS::Partition}:timestream:{AWS::Region}:{AWS::AccountId}:database/{DbDatabaseA82B7836}/table/inferences',
      'arn:{AWS::Partition}:timestream:{AWS::Region}:{AWS::AccountId}:database/{DbDatabaseA82B7836}/table/telemetry',
    ]);
    // AND PutObject names exactly the quarantine prefix and its database's rejected-records prefix
    expect(
      resourcesOf('s3:PutObject')
        .map((resource) => joined(resource))
        .sort(),
    ).toEqual(['{Bucket83908E77.Arn}/quarantine/*', '{Bucket83908E77.Arn}/timestream-rejected/Harness-Db/*']);
    // AND none of its actions on these services is a wildcard
    const actions = all.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => /^(s3|timestream|kms):.*\*/.test(action))).toEqual([]);
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize must be an integer from 1 to 10000, got 0'],
    [{ batchSize: 20_000 }, 'batchSize must be an integer from 1 to 10000, got 20000'],
    [
      { batchSize: 50, maxBatchingWindow: Duration.seconds(0) },
      'batchSize above 10 needs a maxBatchingWindow above zero, got batchSize 50',
    ],
    [{ maxReceiveCount: 0 }, 'maxReceiveCount must be a positive integer, got 0'],
    [{ maxConcurrency: 1 }, 'maxConcurrency must be an integer from 2 to 1000 (SQS event sources), got 1'],
    [{ maxQueueAge: Duration.seconds(30) }, 'maxQueueAge must be at least 1 minute, got 30 seconds'],
  ])('refuses %o with the bad value in the message', (props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it('bundles each handler (ingest, quarantine replay, notify, console API, drift checks, InfluxDB setup, provisioning hook, certificate retirement, KPIs) into one file with esbuild, and builds the console page', () => {
    const app = testApp({ bundle: true });
    pipelineStack(app);
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(assembly.directory, name));
    const bundles = assets.map((dir) => path.join(dir, 'index.js')).filter((file) => existsSync(file));
    // An ingest and a replay function per use case, seven shared handlers of ours, the
    // custom-resource framework's relay in front of the InfluxDB setup, and CDK's log-retention
    // function (IoT Core's log group).
    expect(bundles).toHaveLength(2 * loadUseCases().length + 9);
    // Nothing reads a source map in Lambda (no --enable-source-maps): none is shipped.
    expect(assets.filter((dir) => existsSync(path.join(dir, 'index.js.map')))).toEqual([]);
    expect(bundles.some((file) => readFileSync(file, 'utf8').includes('KPIs computed'))).toBe(true);
    expect(bundles.some((file) => readFileSync(file, 'utf8').includes('provisioning admitted'))).toBe(true);
    expect(bundles.some((file) => readFileSync(file, 'utf8').includes('previous certificate retired'))).toBe(
      true,
    );
    expect(
      bundles.some((file) => readFileSync(file, 'utf8').includes('InfluxDB buckets and tokens in place')),
    ).toBe(true);
    // The console API's manifests are compiled in: its environment has no room for them.
    const consoleApi = bundles.find((file) => readFileSync(file, 'utf8').includes('operator request failed'));
    expect(readFileSync(consoleApi ?? '', 'utf8')).toContain('unplanned-downtime');
    // So are the contracts: the replay checks quarantined messages against the files of today.
    // One replay function per use case, each with the contracts its use case accepts.
    const replays = bundles.filter((file) => readFileSync(file, 'utf8').includes('quarantine replay done'));
    expect(replays).toHaveLength(loadUseCases().length);
    expect(
      replays.some((file) => readFileSync(file, 'utf8').includes('Drive-end bearing temperature.')),
    ).toBe(true);
    const site = assets.find((dir) => existsSync(path.join(dir, 'index.html')));
    expect(readdirSync(site ?? '').sort()).toEqual(['index.html', 'main.css', 'main.js']);
    // The budget: each function's bundle, named by its function, under 2 MB (the console's 2.5 MB;
    // they are 0.9-2.2 MB: the SDK clients are bundled on purpose). Growth past it is a dependency
    // to look at.
    const template = assembly.getStackArtifact('Test').template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: unknown } } }>;
    };
    const functions = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function',
    );
    const sizes = functions.flatMap(([logicalId, resource]) => {
      const key = resource.Properties.Code?.S3Key;
      const file =
        typeof key === 'string'
          ? path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js')
          : '';
      return existsSync(file) ? [{ logicalId, bytes: statSync(file).size }] : [];
    });
    expect(sizes).toHaveLength(bundles.length);
    expect(sizes.filter((bundle) => bundle.bytes > budgetOf(bundle.logicalId))).toEqual([]);
  });

  it('GIVEN -c sourceMaps=true THEN every function of ours starts with source maps on; any other value is refused', () => {
    const app = testApp();
    app.node.setContext('sourceMaps', 'true');
    const functions = Template.fromStack(pipelineStack(app)).findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { Environment?: { Variables?: Record<string, unknown> }; Handler: string } }
    >;
    const ours = Object.values(functions).filter(
      (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    expect(ours.length).toBeGreaterThanOrEqual(9);
    for (const fn of ours)
      expect(fn.Properties.Environment?.Variables?.NODE_OPTIONS).toBe('--enable-source-maps');
    const off = Template.fromStack(pipelineStack(testApp())).findResources(
      'AWS::Lambda::Function',
    ) as typeof functions;
    expect(Object.values(off).some((fn) => fn.Properties.Environment?.Variables?.NODE_OPTIONS)).toBe(false);
    const wrong = testApp();
    wrong.node.setContext('sourceMaps', 'yes');
    expect(() => pipelineStack(wrong)).toThrow('-c sourceMaps must be true or false, got "yes"');
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

  it('GIVEN a stack deletion THEN the database and both tables stay, as the buckets and the key do', () => {
    const template = database(48, 400);
    for (const type of ['AWS::Timestream::Database', 'AWS::Timestream::Table']) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources)
        expect(r).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

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
