import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface SecureBucketProps {
  /** Key for SSE-KMS. */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the server access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** Objects older than this are deleted. @default - kept forever */
  readonly expiration?: Duration;
  /** @default RemovalPolicy.RETAIN, because these buckets hold evidence of lost or rejected data */
  readonly removalPolicy?: RemovalPolicy;
}

/** An S3 bucket with the pipeline's baseline: SSE-KMS, TLS only, no public access, access logs, versioning. */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${id}/`,
      lifecycleRules: props.expiration
        ? [{ expiration: props.expiration, noncurrentVersionExpiration: Duration.days(30) }]
        : [{ noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
