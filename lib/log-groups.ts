import { ArnFormat, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

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
 * CDK's log-retention function (one per stack) that sets an expiry on log groups made by services;
 * its findings, acknowledged where it lives.
 */
export function acknowledgeLogRetentionFunction(retention: logs.LogRetention): logs.LogRetention {
  const stack = Stack.of(retention);
  const singleton = stack.node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
  Validations.of(singleton ?? retention).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's log-retention function logs with the basic execution role; it only sets log group expiries.",
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'PutRetentionPolicy must reach log groups that services create under names known only at deploy time.',
    },
  );
  return retention;
}
