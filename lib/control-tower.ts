/** An AWS Control Tower proactive control the stack does not meet, and why. */
export interface ControlTowerException {
  /** The control's rule file in `@cdklabs/cdk-validator-cfnguard` (how it is disabled). */
  readonly control: string;
  /** The cfn-guard rule it reports as. */
  readonly rule: string;
  /**
   * The resources it is made for, by construct path under the stack (`*`: any characters), with
   * either store: any other resource failing the rule fails the test.
   */
  readonly resources: readonly string[];
  /** Further resources, with the default `-c store=influxdb` only. @default - none */
  readonly influxDbResources?: readonly string[];
  /** Further resources, with `-c store=liveanalytics` only. @default - none */
  readonly liveAnalyticsResources?: readonly string[];
  readonly reason: string;
}

/**
 * The AWS Control Tower proactive controls (cfn-guard rules of `@cdklabs/cdk-validator-cfnguard`)
 * this stack does not meet, each for the resources it names and with why. Every other rule passes
 * on both store choices, and these on every other resource; `test/lib/control-tower.test.ts` runs
 * them all in `npm test`, and docs/compliance.md lists these.
 */
export const CONTROL_TOWER_EXCEPTIONS: readonly ControlTowerException[] = [
  {
    control: 'ct-cloudfront-pr-4',
    rule: 'cloudfront_origin_failover_enabled_check',
    resources: ['Console/Distribution/Resource'],
    reason:
      'The console has one origin of each kind (its page in S3, its API); a second region would double the stack for a page.',
  },
  {
    control: 'ct-cloudfront-pr-6',
    rule: 'cloudfront_custom_ssl_certificate_check',
    resources: ['Console/Distribution/Resource'],
    reason:
      "The console is served on CloudFront's own *.cloudfront.net name so the stack deploys without a domain; a custom domain and ACM certificate are the deployer's choice.",
  },
  {
    control: 'ct-cloudfront-pr-7',
    rule: 'cloudfront_sni_enabled_check',
    resources: ['Console/Distribution/Resource'],
    reason:
      'SNI applies to a custom certificate; the default CloudFront certificate needs none (see CT.CLOUDFRONT.PR.6).',
  },
  {
    control: 'ct-cloudfront-pr-9',
    rule: 'cloudfront_security_policy_check',
    resources: ['Console/Distribution/Resource'],
    reason:
      'A minimum TLS policy can only be set with a custom certificate; with the default one CloudFront decides (see CT.CLOUDFRONT.PR.6).',
  },
  {
    control: 'ct-lambda-pr-2',
    rule: 'lambda_function_public_access_prohibited_check',
    resources: ['Console/Api/*/Operators-Permission', 'Provisioning/HookFunction/IotInvokes'],
    reason:
      "The console API's and the provisioning hook's invoke permissions name their caller (SourceArn) and the account (SourceAccount), but as CloudFormation references: the rule reads plain strings only, which an environment-agnostic stack does not have.",
  },
  {
    control: 'ct-lambda-pr-3',
    rule: 'lambda_inside_vpc_check',
    resources: [
      'Alerting/NotifyFunction/Resource',
      'ModelDeployment/Function/Resource',
      'ModelFineTuning/RegisterFunction/Resource',
      'ModelEndpointProvider/*Function/Resource',
      'ModelEndpointProvider/Provider/framework-*/Resource',
      'Provisioning/HookFunction/Resource',
      'Provisioning/RetireFunction/Resource',
      // CDK's own: log retention, AwsCustomResource, the page upload, the custom-resource relay.
      'LogRetention*/Resource',
      'AWS679f53fac002430cb0da5b7982bd2287/Resource',
      'Custom::CDKBucketDeployment*/Resource',
    ],
    // The VPC's default-group restriction and the setup resource's relay, CDK's own too.
    influxDbResources: [
      'Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler',
      'Telemetry/SetupProvider/framework-onEvent/Resource',
    ],
    // Without InfluxDB the stack has no VPC: every function runs outside one.
    liveAnalyticsResources: [
      'UseCase-*/Ingest/Function/Resource',
      'UseCase-*/Ingest/ReplayFunction/Resource',
      'Drift/Function/Resource',
      'Kpis/Function/Resource',
      'Console/ApiFunction/Resource',
      'ModelFineTuning/StartFunction/Resource',
    ],
    reason:
      "Functions that only call AWS APIs (alert notifications, model deployment, the registration of fine-tuned candidates and the endpoint's custom resource, fleet provisioning, the page upload, CDK's own helpers) run outside a VPC: one would add endpoints and cost for nothing. With the InfluxDB store, the functions that reach it run in its VPC; with LiveAnalytics there is no VPC.",
  },
  {
    control: 'ct-stepfunctions-pr-2',
    rule: 'step_functions_state_machine_tracing_enabled_check',
    resources: ['ModelEndpointProvider/Provider/waiter-state-machine/Resource'],
    reason:
      "The only state machine is the custom-resource framework's waiter, which loops over the endpoint's isComplete function while SageMaker works; CDK offers no X-Ray setting for it, and its executions are logged in full (level ALL).",
  },
  {
    control: 'ct-s3-pr-2',
    rule: 's3_bucket_logging_enabled_check',
    resources: ['AccessLogs/Resource'],
    reason: 'Only the access-log bucket itself has no access logging: logging it into itself would loop.',
  },
  {
    control: 'ct-s3-pr-4',
    rule: 's3_event_notifications_enabled_check',
    resources: [
      'AccessLogs/Resource',
      'Quarantine/Bucket/Resource',
      'Artifacts/Bucket/Resource',
      'Console/Site/Resource',
      'Audit/Bucket/Resource',
    ],
    reason:
      'No process reacts to new objects: quarantine replays are started by people, models deploy on registry approval.',
  },
  {
    control: 'ct-s3-pr-9',
    rule: 's3_bucket_object_lock_enabled_check',
    resources: [
      'AccessLogs/Resource',
      'Quarantine/Bucket/Resource',
      'Artifacts/Bucket/Resource',
      'Console/Site/Resource',
    ],
    reason:
      'Object Lock is on the audit trail bucket, where records must not change. The quarantine moves objects once replayed, artifacts and logs expire, and the console page is replaced on deployment; a lock would stop all three.',
  },
  {
    control: 'ct-s3-pr-10',
    rule: 's3_bucket_default_encryption_kms_check',
    resources: ['AccessLogs/Resource', 'Console/Site/Resource'],
    reason:
      "Only the access-log bucket (S3 delivers server access logs to SSE-S3 buckets only) and the console page's bucket (public code, no data) use SSE-S3; every data bucket uses the stack's KMS key.",
  },
];
