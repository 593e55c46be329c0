import { Aspects, CfnOutput, Duration, Validations, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { NotifyAlarms } from '../alarm-notifications.ts';
import { limitGrantsToAwsServices } from '../grants.ts';
import { EncryptAndExpireLogGroups } from '../log-groups.ts';

/** The stack's data key: every log group, queue, table and bucket of the application uses it. */
export function dataKey(stack: Stack): kms.Key {
  const key = new kms.Key(stack, 'DataKey', {
    description: 'aiot-pipeline: telemetry, queues and quarantine',
    enableKeyRotation: true,
  });
  limitGrantsToAwsServices(key);
  Aspects.of(stack).add(new EncryptAndExpireLogGroups(key));
  return key;
}

/** Where the buckets' server access logs go. */
export function accessLogsBucket(stack: Stack): s3.Bucket {
  // Server access logs can only be delivered to an SSE-S3 bucket.
  const accessLogs = new s3.Bucket(stack, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    // Versions guard against a deleted or overwritten log; both expire, so the bucket does not grow forever.
    versioned: true,
    lifecycleRules: [
      {
        expiration: Duration.days(400),
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
  });
  Validations.of(accessLogs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the access-log bucket itself; logging it into itself would loop.',
  });
  return accessLogs;
}

/** The topic every alarm of the stack notifies, firing and clearing. */
export function operationsTopic(stack: Stack, key: kms.Key): sns.Topic {
  const topic = new sns.Topic(stack, 'OperationsTopic', {
    displayName: 'aiot-pipeline operations: alarms of the pipeline itself',
    masterKey: key,
    enforceSSL: true,
  });
  // CloudWatch publishes the alarms to the encrypted topic, for this account's alarms only.
  const fromThisAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };
  topic.grantPublish(
    new iam.PrincipalWithConditions(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), fromThisAccount),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublishToOperationsTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromThisAccount,
    }),
  );
  Aspects.of(stack).add(new NotifyAlarms(topic));
  new CfnOutput(stack, 'OperationsTopicArn', {
    description:
      'Subscribe the people who run the pipeline: every alarm of the stack (dead letters, backlogs, endpoint errors) goes here',
    value: topic.topicArn,
  });
  return topic;
}
