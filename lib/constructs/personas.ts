import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { objectPrefixFinding, sagemakerArn } from '../grants.ts';
import type { Alerting } from './alerting.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';
import type { TelemetryReads } from '../telemetry-store.ts';

/** The people who work with the pipeline on AWS, as the operators' API names their roles. */
export const PERSONAS = ['operator', 'reliability-engineer', 'ml-engineer', 'analyst', 'auditor'] as const;
export type Persona = (typeof PERSONAS)[number];

export interface PersonasProps {
  /**
   * Who may assume the persona roles, always with MFA.
   * @default - the account (its IAM policies or IAM Identity Center decide which people)
   */
  readonly principal?: iam.IPrincipal;
  readonly alerting: Alerting;
  /** Analysts read every use case's readings and scores (with the read-only token, for InfluxDB). */
  readonly telemetry: TelemetryReads;
  readonly dataKey: kms.IKey;
  readonly quarantineBucket: s3.IBucket;
  readonly artifactBucket: s3.IBucket;
  /** The use cases' models, by use case. */
  readonly endpoints: ReadonlyMap<string, InferenceEndpoint>;
  /** @default - no trail of the stack's own: the auditor reads the application's archive only */
  readonly auditTrail?: AuditTrail;
}

/**
 * One IAM role per persona, each with what the work needs and nothing more: operators read alerts
 * (they decide in the console); analysts also query telemetry and read the quarantine; reliability
 * engineers also approve model versions in the registry; ML engineers also train and register
 * them; auditors read the evidence (the trail, its logs, the audit archive, the registry) and can
 * change nothing.
 */
export class Personas extends Construct {
  readonly roles: ReadonlyMap<Persona, iam.Role>;

  constructor(scope: Construct, id: string, props: PersonasProps) {
    super(scope, id);
    const roles = this.createRoles(props.principal);
    this.roles = roles;
    const get = (persona: Persona): iam.Role => {
      const found = roles.get(persona);
      if (!found) throw new Error(`no role for ${persona}`);
      return found;
    };
    const ml = get('ml-engineer');
    const auditor = get('auditor');
    grantReadAlerts(PERSONAS.map(get), props);
    grantAnalysis((['analyst', 'reliability-engineer', 'ml-engineer'] as const).map(get), props);
    grantRegistry((['reliability-engineer', 'ml-engineer'] as const).map(get), auditor, ml, props);
    grantTraining(ml, props);
    grantAudit(auditor, props);
    this.acknowledge(props);
  }

  /** One role per persona, each assumed only with MFA. */
  private createRoles(assumer: iam.IPrincipal | undefined): Map<Persona, iam.Role> {
    const principal = new iam.PrincipalWithConditions(assumer ?? new iam.AccountRootPrincipal(), {
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
    });
    const role = (persona: Persona, description: string) =>
      new iam.Role(this, persona, {
        assumedBy: principal,
        description: `aiot-pipeline ${persona}: ${description}`,
      });
    const roles = new Map<Persona, iam.Role>([
      ['operator', role('operator', 'reads alerts; decides in the operator console')],
      ['analyst', role('analyst', 'reads alerts, telemetry, inferences and the quarantine')],
      [
        'reliability-engineer',
        role('reliability-engineer', "an analyst's reads; approves or rejects model versions"),
      ],
      ['ml-engineer', role('ml-engineer', "an engineer's rights; trains and registers model versions")],
      ['auditor', role('auditor', 'reads the evidence; changes nothing')],
    ]);
    return roles;
  }

  private acknowledge(props: PersonasProps): void {
    const prefixes = [
      {
        id: objectPrefixFinding(props.quarantineBucket, 'quarantine/'),
        reason:
          'Quarantined messages are one object each under quarantine/; analysts read them, nothing else of the bucket.',
      },
      ...[...props.endpoints].flatMap(([useCase, e]) => [
        {
          id: objectPrefixFinding(props.artifactBucket, e.trainingDataPrefix),
          reason: `Training data of one use case: one object per export, under ${e.trainingDataPrefix} only.`,
        },
        {
          id: objectPrefixFinding(props.artifactBucket, e.modelOutputPrefix),
          reason: `Model artifacts of one use case, named by SageMaker per training job, under ${e.modelOutputPrefix} only.`,
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/${e.modelPackageGroupName.toLowerCase()}/*]`,
          reason: "Versions of the use case's model package group, numbered by the registry.",
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/${useCase.toLowerCase()}-*]`,
          reason: 'Training jobs of the use case, named by the ML engineer with the use case first.',
        },
      ]),
      ...(props.auditTrail
        ? [
            {
              id: objectPrefixFinding(props.auditTrail.bucket, ''),
              reason:
                "CloudTrail names its files by account, region and day; the auditor reads every one of the trail's bucket.",
            },
          ]
        : []),
    ];
    for (const role of this.roles.values()) {
      Validations.of(role).acknowledge(
        ...prefixes,
        {
          id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.alerting.table.node.defaultChild as dynamodb.CfnTable)}.Arn>/index/*]`,
          reason: 'The alert table has one index (byUseCase); reading alerts by use case queries it.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'timestream:DescribeEndpoints and cloudtrail:LookupEvents support no resource-level permissions; both only read.',
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            "Writing SSE-KMS objects (the ML engineer's training data) needs data keys of the data key.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
          reason: "Read access from the L2 grant on the audit trail's bucket.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
          reason: "Read access from the L2 grant on the audit trail's bucket.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::s3:List*]',
          reason: "Listing the audit trail's files, by day and region.",
        },
      );
    }
  }
}

/** Everyone reads alerts and decisions (the table's items are KMS-encrypted). */
function grantReadAlerts(readers: readonly iam.Role[], props: PersonasProps): void {
  for (const r of readers) {
    r.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.alerting.table.tableArn, `${props.alerting.table.tableArn}/index/*`],
      }),
    );
    props.dataKey.grant(r, 'kms:Decrypt', 'kms:DescribeKey');
  }
}

/** Analysts and engineers also read telemetry and the quarantined messages. */
function grantAnalysis(analysts: readonly iam.Role[], props: PersonasProps): void {
  for (const r of analysts) {
    props.telemetry.grantRead(r);
    r.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.quarantineBucket.arnForObjects('quarantine/*')],
      }),
    );
    r.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.quarantineBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['quarantine/*'] } },
      }),
    );
  }
}

/** Engineers and the auditor read the model registry; engineers approve, ML engineers register. */
function grantRegistry(
  approvers: readonly iam.Role[],
  auditor: iam.Role,
  ml: iam.Role,
  props: PersonasProps,
): void {
  const packageArns = [...props.endpoints.values()].map((e) =>
    sagemakerArn(auditor, 'model-package', `${e.modelPackageGroupName}/*`),
  );
  const groupArns = [...props.endpoints.values()].map((e) => e.modelPackageGroup.attrModelPackageGroupArn);
  if (packageArns.length > 0) {
    for (const r of [...approvers, auditor]) {
      r.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'sagemaker:DescribeModelPackage',
            'sagemaker:DescribeModelPackageGroup',
            'sagemaker:ListModelPackages',
          ],
          resources: [...packageArns, ...groupArns],
        }),
      );
    }
    // The approval itself; the deploy function withdraws one by the version's own creator.
    for (const r of approvers) {
      r.addToPolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:UpdateModelPackage'], resources: packageArns }),
      );
    }
    ml.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateModelPackage'],
        resources: [...packageArns, ...groupArns],
      }),
    );
  }
}

/** ML engineers train each use case's model on its data and write its artifacts. */
function grantTraining(ml: iam.Role, props: PersonasProps): void {
  for (const [useCase, endpoint] of props.endpoints) {
    ml.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateTrainingJob',
          'sagemaker:DescribeTrainingJob',
          'sagemaker:StopTrainingJob',
        ],
        resources: [sagemakerArn(ml, 'training-job', `${useCase}-*`)],
      }),
    );
    endpoint.role.grantPassRole(ml);
    ml.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [
          props.artifactBucket.arnForObjects(endpoint.trainingDataPrefix + '*'),
          props.artifactBucket.arnForObjects(endpoint.modelOutputPrefix + '*'),
        ],
      }),
    );
  }
  if (props.endpoints.size > 0) props.dataKey.grant(ml, 'kms:GenerateDataKey');
}

/** The auditor: the application's audit archive, and the trail's files and logs. Reads only. */
function grantAudit(auditor: iam.Role, props: PersonasProps): void {
  auditor.addToPolicy(
    new iam.PolicyStatement({
      actions: ['events:DescribeArchive', 'events:ListReplays'],
      resources: [props.alerting.auditArchive.archiveArn],
    }),
  );
  auditor.addToPolicy(new iam.PolicyStatement({ actions: ['cloudtrail:LookupEvents'], resources: ['*'] }));
  if (props.auditTrail) {
    const trail = props.auditTrail;
    trail.bucket.grantRead(auditor);
    trail.logGroup.grantRead(auditor);
    auditor.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudtrail:GetTrailStatus', 'cloudtrail:DescribeTrails', 'cloudtrail:GetEventSelectors'],
        resources: [trail.trail.trailArn],
      }),
    );
  }
}
