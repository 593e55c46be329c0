import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/*
 * Narrower than the L2 grants: `bucket.grantPut` also allows Abort*, tagging and legal holds, and
 * `key.grantEncryptDecrypt` allows ReEncrypt* and GenerateDataKey*. Writers here need neither.
 */

/** Lets `grantee` create objects under `prefix` of an SSE-KMS bucket, and nothing else. */
export function grantPutObjectsUnder(
  grantee: iam.IGrantable,
  bucket: s3.IBucket,
  key: kms.IKey,
  prefix: string,
): iam.Grant {
  key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
}

/** The cdk-nag finding a prefix-scoped object grant raises, computed so no logical id is hard-coded. */
export function objectPrefixFinding(bucket: s3.IBucket, prefix: string): string {
  const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
  return `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(cfnBucket)}.Arn>/${prefix}*]`;
}

/** Lets `grantee` send to a KMS-encrypted queue. */
export function grantSendToEncryptedQueue(
  grantee: iam.IGrantable,
  queue: sqs.IQueue,
  key: kms.IKey,
): iam.Grant {
  key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  return iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
}
