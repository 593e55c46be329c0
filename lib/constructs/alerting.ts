import { AUDIT_EVENT_SOURCE } from '../../core/audit/audit-event.ts';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { serviceFunction } from '../service-function.ts';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEAD_LETTER_QUEUE_PROPS } from '../dead-letter-queue.ts';
import * as path from 'node:path';
import { Construct } from 'constructs';
import { recordTableProps } from '../record-table.ts';

const NOTIFY_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'notify', 'handler.ts');

export interface AlertingProps {
  readonly encryptionKey: kms.IKey;
  /** Use cases that get an alert topic, with the window their alerts are grouped in. */
  readonly useCases: readonly { readonly id: string; readonly groupWindowSeconds: number }[];
  /** How long the bus archive keeps alert events. @default Duration.days(365) */
  readonly archiveRetention?: Duration;
  /**
   * How long the bus archive keeps audit events (who changed what through the application). EU AI
   * Act Article 12 asks for logs over the system's lifetime. @default - kept indefinitely
   */
  readonly auditRetention?: Duration;
}

/**
 * What decides when people are interrupted, in the cloud: one DynamoDB table for device baselines,
 * alert state and alerts (point-in-time recovery, the stack's KMS key), the application's
 * EventBridge bus with an archive of every alert event, and an SNS topic per use case that people
 * subscribe to (encrypted, TLS only).
 */
export class Alerting extends Construct {
  readonly table: dynamodb.Table;
  readonly bus: events.EventBus;
  /** Every audit event of the application, for auditors. */
  readonly auditArchive: events.Archive;
  readonly topics: ReadonlyMap<string, sns.Topic>;
  /** Delayed messages that tell the notify function a group's window has ended. */
  readonly notifyQueue: sqs.Queue;
  readonly notifyFunction: nodejs.NodejsFunction;
  /** Notifications that failed five times wait in a dead-letter queue: people were not told. */
  readonly notifyDeadLetterAlarm: cloudwatch.Alarm;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const retention = props.archiveRetention ?? Duration.days(365);
    if (retention.toHours({ integral: false }) < 24)
      throw new Error(`archiveRetention must be at least a day, got ${retention.toHumanString()}`);
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      ...recordTableProps(props.encryptionKey),
      timeToLiveAttribute: 'expiresAt',
      // Baselines, alerts and verdicts are the record of decisions: keep them if the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'byUseCase',
      partitionKey: { name: 'useCaseKey', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sortKey', type: dynamodb.AttributeType.STRING },
    });
    this.bus = new events.EventBus(this, 'Bus', { description: 'aiot-pipeline: alert and feedback events' });
    this.bus.archive('Archive', {
      description: 'Every alert event, for audits and replays',
      eventPattern: { source: ['aiot.alerts'] },
      retention,
    });
    this.auditArchive = this.bus.archive('AuditArchive', {
      description: 'Every audit event: who changed what through the application, when and why',
      eventPattern: { source: [AUDIT_EVENT_SOURCE] },
      ...(props.auditRetention ? { retention: props.auditRetention } : {}),
    });
    this.topics = new Map(
      props.useCases.map(({ id: useCase }) => [
        useCase,
        new sns.Topic(this, `Topic-${useCase}`, {
          displayName: `aiot ${useCase} alerts`,
          masterKey: props.encryptionKey,
          enforceSSL: true,
        }),
      ]),
    );
    const deadLetters = new sqs.Queue(this, 'NotifyDeadLetterQueue', {
      ...DEAD_LETTER_QUEUE_PROPS,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
    });
    this.notifyQueue = new sqs.Queue(this, 'NotifyQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * 30),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
    this.notifyFunction = this.createNotifyFunction(props);
    this.notifyDeadLetterAlarm = new cloudwatch.Alarm(this, 'NotifyDeadLetterAlarm', {
      alarmDescription: 'Grouped alert notifications could not be sent; see docs/operations.md',
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Sends each group's notification when its window ends, with a role that can do only that. */
  private createNotifyFunction(props: AlertingProps): nodejs.NodejsFunction {
    const { fn, role } = serviceFunction(this, {
      prefix: 'Notify',
      entry: NOTIFY_ENTRY,
      description: 'Sends one notification per alert group when its window ends',
      roleDescription: 'Sends grouped alert notifications',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: {
        ALERT_TABLE: this.table.tableName,
        NOTIFY_QUEUE_URL: this.notifyQueue.queueUrl,
        ALERT_TOPICS: Stack.of(this).toJsonString(
          Object.fromEntries([...this.topics].map(([useCase, topic]) => [useCase, topic.topicArn])),
        ),
        GROUP_WINDOW_SECONDS: JSON.stringify(
          Object.fromEntries(props.useCases.map((u) => [u.id, u.groupWindowSeconds])),
        ),
        POWERTOOLS_SERVICE_NAME: 'alert-notify',
      },
    });
    fn.addEventSource(new SqsEventSource(this.notifyQueue, { batchSize: 10, reportBatchItemFailures: true }));
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
    });
    this.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['sns:Publish'],
      resourceArns: [...this.topics.values()].map((topic) => topic.topicArn),
    });
    return fn;
  }

  /**
   * Lets a scoring function keep baselines and alerts, publish events and hand a group's
   * notification to the notify function's queue; it never publishes to a topic itself.
   */
  grantAlerting(grantee: iam.IGrantable, useCase: string): void {
    // A use case without a topic would have its alerts grouped and never sent: refuse it here.
    if (!this.topics.has(useCase))
      throw new Error(`no alert topic for use case "${useCase}" (${[...this.topics.keys()].join(', ')})`);
    this.grantDecisions(grantee);
    // Opening an alert counts it against the shift's caps, and a group's notification is held in
    // a counter item: both are conditional updates.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.notifyQueue.queueArn],
    });
  }

  /**
   * Lets `grantee` read and change alerts, baselines and silences and publish the events of each
   * change: what people's decisions need (the console's API), and part of what scoring needs.
   */
  grantDecisions(grantee: iam.IGrantable): void {
    // Narrower than table.grantReadWriteData, which also grants batch, update and delete actions
    // and kms:ReEncrypt*: decisions read, put conditionally and query, nothing else.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/*`],
    });
    this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    this.bus.grantPutEventsTo(grantee);
    if (grantee.grantPrincipal instanceof iam.Role) {
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
        reason:
          'The alert table has one index (byUseCase), which listings query; the grant names the table and its indexes.',
      });
    }
  }

  /**
   * Lets `grantee` list alerts (the KPI computations) and, with `baselines`, read a device's
   * baseline (the drift checks): queries and reads, nothing else.
   */
  grantReadAlerts(grantee: iam.IGrantable, options: { readonly baselines?: boolean } = {}): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: options.baselines ? ['dynamodb:GetItem', 'dynamodb:Query'] : ['dynamodb:Query'],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/*`],
    });
    this.encryptionKey.grant(grantee, 'kms:Decrypt');
    if (grantee.grantPrincipal instanceof iam.Role) {
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
        reason:
          'The alert table has one index (byUseCase), which listings query; the grant names the table and its indexes.',
      });
    }
  }

  /**
   * Lets the drift checks read alerts and baselines, write findings and receipts in batches, and
   * publish a finding's event.
   */
  grantDriftRecords(grantee: iam.IGrantable): void {
    // Reads (open alerts, baselines) and batch writes only: the checks change no alert or baseline.
    this.grantReadAlerts(grantee, { baselines: true });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:BatchWriteItem'],
      resourceArns: [this.table.tableArn],
    });
    this.encryptionKey.grant(grantee, 'kms:Encrypt', 'kms:GenerateDataKey');
    this.bus.grantPutEventsTo(grantee);
  }

  /** The environment the scoring function reads (lambdas/ingest/handler.ts). */
  environmentFor(useCase: string): Record<string, string> {
    if (!this.topics.has(useCase)) throw new Error(`no alert topic for use case "${useCase}"`);
    return {
      ALERT_TABLE: this.table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      // Where a group's window-end message goes (DynamoDbNotificationBatcher); grantAlerting lets it send.
      NOTIFY_QUEUE_URL: this.notifyQueue.queueUrl,
    };
  }
}
