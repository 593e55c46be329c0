import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { limitGrantsToAwsServices } from '../grants.ts';

export interface AuditTrailProps {
  /**
   * How long each log file is locked (S3 Object Lock, governance mode) and kept; also the
   * CloudWatch Logs retention of the trail's log group. @default Duration.days(365)
   */
  readonly retention?: Duration;
  /** Buckets whose object reads and writes are recorded (CloudTrail data events). */
  readonly dataEventBuckets: readonly s3.IBucket[];
  /** DynamoDB tables whose item reads and writes are recorded. */
  readonly dataEventTables: readonly dynamodb.ITable[];
  /** Bucket receiving the trail bucket's server access logs. */
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * Who changed what through AWS: a CloudTrail trail of every region's management events, and the
 * data events of the application's buckets and tables. Its files are validated (digest files),
 * encrypted with a key of their own, and kept in a bucket with Object Lock in governance mode, so
 * within the retention they cannot be deleted or overwritten without a special permission that
 * itself leaves a trail. A copy goes to CloudWatch Logs for queries and alarms.
 */
export class AuditTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;
  /** The trail's CloudWatch Logs copy. */
  readonly logGroup: logs.LogGroup;
  readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(365);
    const days = retention.toDays();
    if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < 1 || days > 36_500)) {
      throw new Error(`retention must be whole days from 1 to 36500, got ${days}`);
    }
    this.encryptionKey = trailKey(this);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(retention),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${id}/`,
      // Once the lock runs out the files may go; versions a person replaced go a day later.
      lifecycleRules: [
        { expiration: retention.plus(Duration.days(1)), noncurrentVersionExpiration: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logGroup = (this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: retentionDays(days),
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    allowTrailCopyEncryption(this.encryptionKey);
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: this.bucket,
      encryptionKey: this.encryptionKey,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup,
    });
    const cfnTrail = this.trail.node.defaultChild as cloudtrail.CfnTrail;
    cfnTrail.advancedEventSelectors = eventSelectors(props);
  }
}

/** A key of the trail's own: CloudTrail encrypts with it only for trails of this account (AWS's documented key policy). */
function trailKey(scope: Construct): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'Key', {
    description: 'aiot-pipeline: CloudTrail audit logs',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  limitGrantsToAwsServices(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudTrailEncryptsLogs',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        StringLike: {
          'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${stack.account}:trail/*`,
        },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudTrailDescribesKey',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  return key;
}

/** CloudWatch Logs encrypts the trail copy's events with the key, in this region only. */
function allowTrailCopyEncryption(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsTrailCopy',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
}

/** Advanced selectors: management events and exactly these buckets' objects and these tables. */
function eventSelectors(props: AuditTrailProps): cloudtrail.CfnTrail.AdvancedEventSelectorProperty[] {
  return [
    { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
    ...(props.dataEventBuckets.length > 0
      ? [
          {
            name: 'Objects of the application buckets',
            fieldSelectors: [
              { field: 'eventCategory', equalTo: ['Data'] },
              { field: 'resources.type', equalTo: ['AWS::S3::Object'] },
              { field: 'resources.ARN', startsWith: props.dataEventBuckets.map((b) => `${b.bucketArn}/`) },
            ],
          },
        ]
      : []),
    ...(props.dataEventTables.length > 0
      ? [
          {
            // Changes only: reads are no change, and every ingest batch reads device baselines,
            // which at $0.10 per 100,000 events would cost more than carrying the readings.
            name: 'Item changes of the application tables',
            fieldSelectors: [
              { field: 'eventCategory', equalTo: ['Data'] },
              { field: 'resources.type', equalTo: ['AWS::DynamoDB::Table'] },
              { field: 'readOnly', equalTo: ['false'] },
              { field: 'resources.ARN', equalTo: props.dataEventTables.map((t) => t.tableArn) },
            ],
          },
        ]
      : []),
  ];
}

const R = logs.RetentionDays;
/** CloudWatch Logs' retention periods, shortest first. */
const LOG_RETENTIONS: readonly logs.RetentionDays[] = [
  R.ONE_DAY,
  R.THREE_DAYS,
  R.FIVE_DAYS,
  R.ONE_WEEK,
  R.TWO_WEEKS,
  R.ONE_MONTH,
  R.TWO_MONTHS,
  R.THREE_MONTHS,
  R.FOUR_MONTHS,
  R.FIVE_MONTHS,
  R.SIX_MONTHS,
  R.ONE_YEAR,
  R.THIRTEEN_MONTHS,
  R.EIGHTEEN_MONTHS,
  R.TWO_YEARS,
  R.THREE_YEARS,
  R.FIVE_YEARS,
  R.SIX_YEARS,
  R.SEVEN_YEARS,
  R.EIGHT_YEARS,
  R.NINE_YEARS,
  R.TEN_YEARS,
];

/** The CloudWatch Logs retention that keeps a log group at least `days`. */
function retentionDays(days: number): logs.RetentionDays {
  return LOG_RETENTIONS.find((value) => (value as number) >= days) ?? R.INFINITE;
}
