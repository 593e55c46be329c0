/** An AWS Control Tower proactive control the stack does not meet, and why. */
export interface ControlTowerException {
  /** The control's rule file in `@cdklabs/cdk-validator-cfnguard` (how it is disabled). */
  readonly control: string;
  /** The cfn-guard rule it reports as. */
  readonly rule: string;
  readonly reason: string;
}

/**
 * The AWS Control Tower proactive controls (cfn-guard rules of `@cdklabs/cdk-validator-cfnguard`)
 * this stack does not meet, each with why. Every other rule passes on both store choices;
 * `test/lib/control-tower.test.ts` runs them all in `npm test`, and docs/compliance.md lists these.
 */
export const CONTROL_TOWER_EXCEPTIONS: readonly ControlTowerException[] = [
  {
    control: 'ct-cloudfront-pr-4',
    rule: 'cloudfront_origin_failover_enabled_check',
    reason:
      'The console has one origin of each kind (its page in S3, its API); a second region would double the stack for a page.',
  },
  {
    control: 'ct-cloudfront-pr-6',
    rule: 'cloudfront_custom_ssl_certificate_check',
    reason:
      "The console is served on CloudFront's own *.cloudfront.net name so the stack deploys without a domain; a custom domain and ACM certificate are the deployer's choice.",
  },
  {
    control: 'ct-cloudfront-pr-7',
    rule: 'cloudfront_sni_enabled_check',
    reason:
      'SNI applies to a custom certificate; the default CloudFront certificate needs none (see CT.CLOUDFRONT.PR.6).',
  },
  {
    control: 'ct-cloudfront-pr-9',
    rule: 'cloudfront_security_policy_check',
    reason:
      'A minimum TLS policy can only be set with a custom certificate; with the default one CloudFront decides (see CT.CLOUDFRONT.PR.6).',
  },
  {
    control: 'ct-lambda-pr-2',
    rule: 'lambda_function_public_access_prohibited_check',
    reason:
      "The console API's invoke permissions name the API (SourceArn) and the account (SourceAccount), but as CloudFormation references: the rule reads plain strings only, which an environment-agnostic stack does not have.",
  },
  {
    control: 'ct-lambda-pr-3',
    rule: 'lambda_inside_vpc_check',
    reason:
      "Functions that only call AWS APIs (alert notifications, model deployment, the page upload, CDK's own helpers) run outside a VPC: one would add endpoints and cost for nothing. With the InfluxDB store, the functions that reach it run in its VPC.",
  },
  {
    control: 'ct-s3-pr-2',
    rule: 's3_bucket_logging_enabled_check',
    reason: 'Only the access-log bucket itself has no access logging: logging it into itself would loop.',
  },
  {
    control: 'ct-s3-pr-4',
    rule: 's3_event_notifications_enabled_check',
    reason:
      'No process reacts to new objects: quarantine replays are started by people, models deploy on registry approval.',
  },
  {
    control: 'ct-s3-pr-9',
    rule: 's3_bucket_object_lock_enabled_check',
    reason:
      'Object Lock is on the audit trail bucket, where records must not change. The quarantine moves objects once replayed, and artifacts and logs expire; a lock would stop both.',
  },
  {
    control: 'ct-s3-pr-10',
    rule: 's3_bucket_default_encryption_kms_check',
    reason:
      "Only the access-log bucket (S3 delivers server access logs to SSE-S3 buckets only) and the console page's bucket (public code, no data) use SSE-S3; every data bucket uses the stack's KMS key.",
  },
];
