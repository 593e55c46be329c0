import { ArnFormat, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';

/** How long a log group keeps its events when its maker said nothing: AWS Control Tower's minimum. */
export const DEFAULT_LOG_RETENTION_DAYS = 365;

/**
 * Gives every log group of a scope an expiry and a customer managed key, where its maker set none
 * (a log group without retention keeps its events, and their cost, forever). What a maker set is
 * kept; `RetentionDays.INFINITE` reads as none set, since this stack keeps no log forever (records
 * that must outlive a year are in the audit trail's locked bucket). The key's policy admits
 * CloudWatch Logs of this account, for log groups only.
 */
export class EncryptAndExpireLogGroups implements IAspect {
  private keyPolicyAdded = false;

  constructor(private readonly key: kms.IKey) {}

  visit(node: IConstruct): void {
    if (!(node instanceof logs.CfnLogGroup)) return;
    node.retentionInDays ??= DEFAULT_LOG_RETENTION_DAYS;
    if (node.kmsKeyId !== undefined) return;
    node.kmsKeyId = this.key.keyArn;
    if (this.keyPolicyAdded) return;
    this.keyPolicyAdded = true;
    const stack = Stack.of(node);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}

/**
 * Acknowledges the findings of one of CDK's per-stack singleton functions on the singleton itself,
 * where it lives; each of them logs with the basic execution role.
 */
function acknowledgeSingleton(
  scope: IConstruct,
  singletonId: string,
  role: string,
  ...more: { id: string; reason: string }[]
): void {
  const singleton = Stack.of(scope).node.tryFindChild(singletonId);
  Validations.of(singleton ?? scope).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `CDK's ${role} logs with the basic execution role.`,
    },
    ...more,
  );
}

/**
 * CDK's log-retention function (one per stack) that sets an expiry on log groups made by services;
 * its findings, acknowledged where it lives.
 */
export function acknowledgeLogRetentionFunction(retention: logs.LogRetention): logs.LogRetention {
  acknowledgeSingleton(
    retention,
    'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a',
    'log-retention function, which only sets log group expiries,',
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'PutRetentionPolicy must reach log groups that services create under names known only at deploy time.',
    },
  );
  return retention;
}

export interface ServiceLogGroupEncryptionProps {
  /** The log group a service creates itself (a SageMaker endpoint's, say). */
  readonly logGroupName: string;
  /**
   * The names the key's policy admits CloudWatch Logs for: a pattern when the name is known only at
   * deployment, since a key policy naming the resource that uses the key would be a dependency cycle.
   * @default - logGroupName
   */
  readonly keyPolicyLogGroupPattern?: string;
  readonly encryptionKey: kms.IKey;
}

/**
 * Puts a customer managed key on a log group that a service creates itself, where CloudFormation
 * cannot set one (`logs:AssociateKmsKey` on create and update; events written from then on are
 * encrypted with it). Give it a dependency on whatever creates the group first. The key's policy
 * admits CloudWatch Logs for those groups only.
 */
export class ServiceLogGroupEncryption extends Construct {
  constructor(scope: Construct, id: string, props: ServiceLogGroupEncryptionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupArn = (name: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': logGroupArn(
              props.keyPolicyLogGroupPattern ?? props.logGroupName,
            ),
          },
        },
      }),
    );
    const call: cr.AwsSdkCall = {
      service: 'CloudWatchLogs',
      action: 'associateKmsKey',
      parameters: { logGroupName: props.logGroupName, kmsKeyId: props.encryptionKey.keyArn },
      physicalResourceId: cr.PhysicalResourceId.of(props.logGroupName),
    };
    const association = new cr.AwsCustomResource(this, 'Association', {
      onCreate: call,
      onUpdate: call,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['logs:AssociateKmsKey'],
          resources: [logGroupArn(props.logGroupName)],
        }),
      ]),
      installLatestAwsSdk: false,
      logGroup: awsCustomResourceLogs(stack),
    });
    acknowledgeAwsCustomResourceFunction(association);
  }
}

/**
 * Where CDK's AwsCustomResource function (one per stack) logs: a group of the stack's, which
 * EncryptAndExpireLogGroups gives an expiry and the key, instead of one Lambda would make with neither.
 */
function awsCustomResourceLogs(stack: Stack): logs.ILogGroup {
  const id = 'AwsCustomResourceLogs';
  const existing = stack.node.tryFindChild(id);
  return existing instanceof logs.LogGroup ? existing : new logs.LogGroup(stack, id);
}

/** CDK's AwsCustomResource function (one per stack): its findings, acknowledged where it lives. */
function acknowledgeAwsCustomResourceFunction(resource: cr.AwsCustomResource): void {
  acknowledgeSingleton(
    resource,
    'AWS679f53fac002430cb0da5b7982bd2287',
    'AwsCustomResource function, which makes single SDK calls at deployment,',
    {
      id: 'AwsSolutions-L1',
      reason:
        "CDK's AwsCustomResource function: its runtime is CDK's to choose, and it runs only at deployment.",
    },
  );
}
