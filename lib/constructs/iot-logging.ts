import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Validations } from 'aws-cdk-lib';
import { serviceOfThisAccount } from '../grants.ts';
import { acknowledgeLogRetentionFunction } from '../log-groups.ts';

/** The log group AWS IoT writes to: its own, named by the service. */
export const IOT_LOG_GROUP = 'AWSIotLogsV2';

export interface IotLoggingProps {
  /** What IoT Core logs: rule failures and refused connections at `ERROR`. @default 'ERROR' */
  readonly level?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG';
  /** How long IoT Core's log group keeps its events. @default logs.RetentionDays.ONE_YEAR */
  readonly retention?: logs.RetentionDays;
}

const LEVELS = ['ERROR', 'WARN', 'INFO', 'DEBUG'];

/**
 * AWS IoT Core logging for the account and region (there is one setting per account: a second
 * stack in the same account should not have one). At `ERROR` it records what a device developer
 * needs when a message goes missing before any of our code sees it: refused connections and
 * publishes, and failed rule actions. IoT writes to `AWSIotLogsV2`, which gets an expiry here.
 */
export class IotLogging extends Construct {
  readonly role: iam.Role;
  readonly logging: iot.CfnLogging;

  constructor(scope: Construct, id: string, props: IotLoggingProps = {}) {
    super(scope, id);
    const level = props.level ?? 'ERROR';
    if (!LEVELS.includes(level)) throw new Error(`level must be one of ${LEVELS.join(', ')}, got "${level}"`);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: serviceOfThisAccount(this, 'iot.amazonaws.com'),
      description: 'Lets AWS IoT Core write its own log group',
    });
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: IOT_LOG_GROUP,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:PutMetricFilter',
          'logs:PutRetentionPolicy',
        ],
        resources: [logGroupArn, `${logGroupArn}:*`],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${IOT_LOG_GROUP}:*]`,
      reason:
        'IoT Core writes log streams it names itself, inside its one log group; the grant names that group.',
    });
    this.logging = new iot.CfnLogging(this, 'Logging', {
      accountId: stack.account,
      defaultLogLevel: level,
      roleArn: this.role.roleArn,
    });
    acknowledgeLogRetentionFunction(
      new logs.LogRetention(this, 'Retention', {
        logGroupName: IOT_LOG_GROUP,
        retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      }),
    );
  }
}
