import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';

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

/**
 * A service principal that may assume a role only on behalf of this account (the confused-deputy
 * guard AWS documents for service roles), and, for services that name their resources in
 * `aws:SourceArn`, only for resources of `sourceArnResource` (e.g. IoT's `rule/*`).
 */
export function serviceOfThisAccount(
  scope: IConstruct,
  service: string,
  sourceArnResource?: { readonly service: string; readonly resource: string },
): iam.IPrincipal {
  const stack = Stack.of(scope);
  return new iam.PrincipalWithConditions(new iam.ServicePrincipal(service), {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ...(sourceArnResource
      ? {
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:${sourceArnResource.service}:${stack.region}:${stack.account}:${sourceArnResource.resource}`,
          },
        }
      : {}),
  });
}

/**
 * Lets only AWS services create grants on the key (for resources they encrypt for a caller),
 * never a principal directly: AWS Control Tower's CT.KMS.PR.3.
 */
export function limitGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/**
 * The ARN of a SageMaker resource of this stack's account and region. SageMaker spells resource
 * names in lower case in its ARNs (a policy naming `Pump-*` matches nothing), so the name is
 * lowered here; it must be known at synth for that.
 */
export function sagemakerArn(scope: IConstruct, resource: string, resourceName: string): string {
  if (Token.isUnresolved(resourceName)) {
    throw new Error(
      `a SageMaker ARN needs a resource name known at synth to lower its case, got ${resourceName}`,
    );
  }
  return Stack.of(scope).formatArn({
    service: 'sagemaker',
    resource,
    resourceName: resourceName.toLowerCase(),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Lets `grantee` read (GetSecretValue) and, with `write`, put a new value (PutSecretValue) of a
 * secret, and use its key through Secrets Manager for that, as `grantRead`/`grantWrite` do.
 * Those also allow DescribeSecret, UpdateSecret and UpdateSecretVersionStage, which nothing here
 * calls (the function tests check each role against the calls its handler makes).
 */
export function grantSecretValue(
  secret: secretsmanager.ISecret,
  grantee: iam.IGrantable,
  options: { readonly write?: boolean } = {},
): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue', ...(options.write ? ['secretsmanager:PutSecretValue'] : [])],
    resourceArns: [secret.secretArn],
  });
  const viaSecretsManager = new kms.ViaServicePrincipal(
    `secretsmanager.${Stack.of(secret).region}.amazonaws.com`,
    grantee.grantPrincipal,
  );
  secret.encryptionKey?.grantDecrypt(viaSecretsManager);
  if (options.write) secret.encryptionKey?.grantEncrypt(viaSecretsManager);
}
