import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { serviceOfThisAccount } from '../grants.ts';
import { healthTopicFilter } from '../../core/ingest/topics.ts';
import { healthSnapshotPartition } from '../../core/operators/ports.ts';

export interface EdgeHealthProps {
  /** The use case whose devices report health on `dt/<useCase>/<thing>/health`. */
  readonly useCase: string;
  /** How long health reports are kept. @default logs.RetentionDays.ONE_YEAR */
  readonly retention?: logs.RetentionDays;
  /** Alarm when any device holds a reading it could not deliver for longer than this. @default Duration.hours(1) */
  readonly maxBacklogAge?: Duration;
  /**
   * A table that keeps each device's last report (its backlog and link, for the console's fleet
   * view), and the key it is encrypted with. @default - reports go to the log group only
   */
  readonly latest?: { readonly table: dynamodb.ITable; readonly encryptionKey: kms.IKey };
}

/**
 * Figures of an agent's health report that become fleet-wide CloudWatch metrics. Not per thing: a
 * metric filter with the thing as a dimension stops past 1,000 name/value pairs an hour, so it
 * would go silent at fleet scale. Each device's figures are in its reports (the log group) and
 * its last report in the `latest` table (the console's fleet view).
 */
const HEALTH_METRICS = {
  QueueDepth: '$.queueDepth',
  OldestAgeSeconds: '$.oldestAgeSeconds',
  Dropped: '$.dropped',
  Rejected: '$.rejected',
} as const;

/**
 * Where edge agents' health reports go: an IoT rule writes each one to a log group (the thing
 * name taken from the topic, which the device policy binds to the certificate), metric filters
 * turn the figures into fleet-wide metrics (maximum: the worst device; sum: the fleet's total),
 * and an alarm fires when any device has held an undelivered reading for too long.
 */
export class EdgeHealth extends Construct {
  readonly logGroup: logs.LogGroup;
  /** What the rules could not deliver (their error action), with the rules engine's reason. */
  readonly ruleErrors: logs.LogGroup;
  readonly rule: iot.CfnTopicRule;
  readonly backlogAlarm: cloudwatch.Alarm;
  /** Keeps each device's last report in the `latest` table, when one is given. */
  readonly latestRule?: iot.CfnTopicRule;
  /** Namespace of the fleet-wide metrics (no dimensions). */
  readonly metricNamespace: string;

  constructor(scope: Construct, id: string, props: EdgeHealthProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*$/.test(props.useCase)) {
      throw new Error(`useCase must be lower-case kebab-case, got "${props.useCase}"`);
    }
    const maxBacklogAge = props.maxBacklogAge ?? Duration.hours(1);
    if (maxBacklogAge.toSeconds() < 60) {
      throw new Error(`maxBacklogAge must be at least 1 minute, got ${maxBacklogAge.toHumanString()}`);
    }
    this.metricNamespace = `aiot/${props.useCase}/edge`;
    this.logGroup = new logs.LogGroup(this, 'Reports', {
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
    });

    this.ruleErrors = new logs.LogGroup(this, 'RuleErrors', { retention: logs.RetentionDays.ONE_YEAR });

    const role = new iam.Role(this, 'RuleRole', {
      assumedBy: serviceOfThisAccount(this, 'iot.amazonaws.com', { service: 'iot', resource: 'rule/*' }),
      description: `Lets the ${props.useCase} health rule write reports to its log group`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, this.ruleErrors.logGroupArn],
      }),
    );
    this.rule = new iot.CfnTopicRule(this, 'Rule', {
      topicRulePayload: {
        sql: `SELECT *, topic(3) AS thing, timestamp() AS receivedAt FROM '${healthTopicFilter(props.useCase)}'`,
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        description: `Keep ${props.useCase} edge agent health reports and turn them into metrics`,
        actions: [{ cloudwatchLogs: { logGroupName: this.logGroup.logGroupName, roleArn: role.roleArn } }],
        errorAction: this.errorAction(role.roleArn),
      },
    });

    if (props.latest) this.latestRule = this.keepLatest(props.useCase, props.latest);

    for (const [metricName, metricValue] of Object.entries(HEALTH_METRICS)) {
      this.logGroup.addMetricFilter(metricName, {
        filterPattern: logs.FilterPattern.exists(metricValue),
        metricNamespace: this.metricNamespace,
        metricName,
        metricValue,
      });
    }
    this.backlogAlarm = new cloudwatch.Alarm(this, 'BacklogAlarm', {
      alarmDescription: `${props.useCase}: a device has held an undelivered reading for over ${maxBacklogAge.toHumanString()}; which one: docs/edge.md`,
      metric: this.metric('OldestAgeSeconds'),
      threshold: maxBacklogAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * One item per device, overwritten by each report: only the figures the console shows, named
   * explicitly, so nothing else a device sends reaches the table (the thing name comes from the
   * topic, which the device policy binds to the certificate).
   */
  private keepLatest(useCase: string, latest: NonNullable<EdgeHealthProps['latest']>): iot.CfnTopicRule {
    const role = new iam.Role(this, 'LatestRole', {
      assumedBy: serviceOfThisAccount(this, 'iot.amazonaws.com', { service: 'iot', resource: 'rule/*' }),
      description: `Lets the ${useCase} health rule keep each device's last report`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [latest.table.tableArn] }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [this.ruleErrors.logGroupArn],
      }),
    );
    latest.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
    return new iot.CfnTopicRule(this, 'LatestRule', {
      topicRulePayload: {
        sql:
          `SELECT '${healthSnapshotPartition(useCase)}' AS pk, topic(3) AS sk, timestamp() AS receivedAt, ` +
          `connected, queueDepth, oldestAgeSeconds, readings, spikes FROM '${healthTopicFilter(useCase)}'`,
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        description: `Keep each ${useCase} edge agent's last health report for the console`,
        actions: [{ dynamoDBv2: { putItem: { tableName: latest.table.tableName }, roleArn: role.roleArn } }],
        errorAction: this.errorAction(role.roleArn),
      },
    });
  }

  /** A report the rule could not deliver is kept in the errors log group instead of vanishing. */
  private errorAction(roleArn: string): iot.CfnTopicRule.ActionProperty {
    return { cloudwatchLogs: { logGroupName: this.ruleErrors.logGroupName, roleArn } };
  }

  /** A fleet-wide figure, for dashboards and alarms. @default statistic - the worst device (Maximum) */
  metric(name: keyof typeof HEALTH_METRICS, statistic: string = cloudwatch.Stats.MAXIMUM): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricNamespace,
      metricName: name,
      statistic,
      period: Duration.minutes(5),
    });
  }
}
