import * as path from 'node:path';
import { ArnFormat, Duration, IgnoreMode, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { ModelEndpoint } from './model-endpoint.ts';
import { acknowledgeLogRetentionFunction, ServiceLogGroupEncryption } from '../log-groups.ts';
import { grantPutObjectsUnder, objectPrefixFinding, sagemakerArn, serviceOfThisAccount } from '../grants.ts';

const REPO_ROOT = path.join(import.meta.dirname, '..', '..');

/**
 * Whether an instance type has local NVMe instance storage, for which SageMaker refuses a KMS key
 * on the endpoint configuration: families with a `d` after their generation (ml.m5d, ml.c6gd,
 * ml.g4dn, ml.p4d, ...) and the accelerated families that always have it (g5, g6, p5, trn1).
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split('.')[1] ?? '';
  return /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family) || /^(g5|g6e?|p5e?|trn1n?)$/.test(family);
}

/** Half of one vCPU: headroom for a burst while a new instance starts (several minutes). */
export const DEFAULT_CPU_UTILIZATION_PERCENT = 50;

export interface InferenceEndpointProps {
  readonly useCase: string;
  /** Bucket for training data, model artifacts and data capture. */
  readonly artifactBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Autoscaling target: invocations per instance per minute. */
  readonly invocationsPerInstancePerMinute: number;
  /**
   * Second autoscaling target: the instances' mean CPU utilization, percent of one vCPU (the
   * model server is one process). A call carries up to 100 devices' windows, so invocations alone
   * would not see the load grow with the fleet; whichever target asks for more instances wins.
   * @default 50
   */
  readonly cpuUtilizationPercent?: number;
  /** @default 20 */
  readonly dataCapturePercent?: number;
  /**
   * Key of a trained `model.tar.gz` in the artifact bucket. Without it the construct provisions
   * the image, the role and the prefixes, but no endpoint: SageMaker cannot create one without a
   * model, and the first training job needs the image (docs/model.md, "First deployment").
   * @default - no endpoint yet
   */
  readonly modelArtifactKey?: string;
  /**
   * The bus the models the stack deploys are recorded on. Required with `modelArtifactKey`.
   * @default - none
   */
  readonly auditBus?: events.IEventBus;
}

/**
 * The anomaly model of one use case on SageMaker: the bring-your-own-container image (a Docker
 * image asset, built at deploy time, so `cdk synth` needs no Docker), an execution role for
 * training jobs and the endpoint, and, once a model artifact exists, the model (network
 * isolated), an endpoint configuration with data capture, the endpoint and target-tracking
 * autoscaling on invocations per instance.
 */
export class InferenceEndpoint extends Construct {
  readonly image: ecrAssets.DockerImageAsset;
  readonly role: iam.Role;
  readonly trainingDataPrefix: string;
  readonly modelOutputPrefix: string;
  readonly dataCapturePrefix: string;
  readonly endpoint?: ModelEndpoint;
  /** The endpoint name, once there is an endpoint. */
  readonly endpointName?: string;
  /** The endpoint's ARN, once there is an endpoint. */
  readonly endpointArn?: string;
  /** Where trained versions are registered and people approve them (SageMaker Model Registry). */
  readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  readonly modelPackageGroupName: string;
  /** Alarms that roll a blue/green update back while it bakes, once there is an endpoint. */
  readonly rollbackAlarms: readonly cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: InferenceEndpointProps) {
    super(scope, id);
    const capture = validateProps(props);
    this.trainingDataPrefix = `training-data/${props.useCase}/`;
    this.modelOutputPrefix = `models/${props.useCase}/`;
    this.dataCapturePrefix = `data-capture/${props.useCase}/`;

    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: REPO_ROOT,
      file: 'model/Dockerfile',
      platform: ecrAssets.Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
    });
    this.role = this.createRole(props);
    // The group is named for the stack and the use case: training pipelines register into it by name.
    this.modelPackageGroupName = `${Stack.of(this).stackName}-${props.useCase}`.slice(0, 63);
    this.modelPackageGroup = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `${props.useCase}: trained versions of the anomaly model; a person other than the one who registered a version approves it`,
    });

    if (props.modelArtifactKey === undefined) return;
    const names = endpointNames(this, props.instanceType);
    this.rollbackAlarms = this.createRollbackAlarms(names.name, props);
    const endpoint = this.createEndpoint(props, props.modelArtifactKey, capture, names);
    this.endpoint = endpoint;
    this.endpointName = endpoint.endpointName;
    this.endpointArn = sagemakerArn(this, 'endpoint', names.name);
    // SageMaker makes the endpoint's log group itself, without an expiry or a key: give it one...
    const retention = new logs.LogRetention(this, 'EndpointLogRetention', {
      logGroupName: `/aws/sagemaker/Endpoints/${endpoint.endpointName}`,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    acknowledgeLogRetentionFunction(retention);
    // ...and this stack's key; the retention function creates the group if SageMaker has not yet.
    new ServiceLogGroupEncryption(this, 'EndpointLogEncryption', {
      logGroupName: `/aws/sagemaker/Endpoints/${endpoint.endpointName}`,
      keyPolicyLogGroupPattern: '/aws/sagemaker/Endpoints/*',
      encryptionKey: props.encryptionKey,
    }).node.addDependency(retention);
    this.addAutoscaling(endpoint, props);
    // SageMaker reads a blue/green update's rollback alarms as the execution role; without this it
    // cannot watch them. A policy beside the role, not in it: the model depends on the role, and
    // the alarms on the endpoint, which would be a circle.
    new iam.Policy(this, 'RollbackAlarmsPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['cloudwatch:DescribeAlarms'],
          resources: this.rollbackAlarms.map((alarm) => alarm.alarmArn),
        }),
      ],
    });
  }

  /**
   * What rolls an update back: server errors of the new fleet, or a p99 latency over the 200 ms
   * the pipeline promises.
   */
  private createRollbackAlarms(endpointName: string, props: InferenceEndpointProps): cloudwatch.Alarm[] {
    // The name, not the resource's attribute: the resource names the alarms, so cannot come first.
    const dimensionsMap = { EndpointName: endpointName, VariantName: 'AllTraffic' };
    return [
      new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        alarmDescription: `${props.useCase}: the endpoint answers with server errors; a model update in progress rolls back`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName: 'Invocation5XXErrors',
          dimensionsMap,
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(1),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'LatencyAlarm', {
        alarmDescription: `${props.useCase}: the endpoint's p99 model latency is above 200 ms; a model update in progress rolls back`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName: 'ModelLatency',
          dimensionsMap,
          statistic: cloudwatch.Stats.p(99),
          period: Duration.minutes(1),
        }),
        // ModelLatency is in microseconds.
        threshold: 200_000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  /** The execution role of training jobs and the endpoint: its image, its prefixes, its logs and metrics. */
  private createRole(props: InferenceEndpointProps): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: serviceOfThisAccount(this, 'sagemaker.amazonaws.com'),
      description: `SageMaker training jobs and endpoint of ${props.useCase}`,
    });
    this.image.repository.grantPull(role);
    props.artifactBucket.grantRead(role, `${this.trainingDataPrefix}*`);
    props.artifactBucket.grantRead(role, `${this.modelOutputPrefix}*`);
    grantPutObjectsUnder(role, props.artifactBucket, props.encryptionKey, this.modelOutputPrefix);
    grantPutObjectsUnder(role, props.artifactBucket, props.encryptionKey, this.dataCapturePrefix);
    const sageMakerLogs = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [sageMakerLogs, `${sageMakerLogs}:*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'cloudwatch:namespace': ['/aws/sagemaker/TrainingJobs', '/aws/sagemaker/Endpoints'],
          },
        },
      }),
    );
    this.acknowledgeRoleFindings(role, props.artifactBucket);
    return role;
  }

  private acknowledgeRoleFindings(role: iam.Role, artifactBucket: s3.IBucket): void {
    Validations.of(role).acknowledge(
      ...[this.trainingDataPrefix, this.modelOutputPrefix, this.dataCapturePrefix].map((prefix) => ({
        id: objectPrefixFinding(artifactBucket, prefix),
        reason: `SageMaker reads and writes objects it names itself, under ${prefix} of this use case only.`,
      })),
      {
        id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
        reason: "Read access from the L2 grant, limited to this use case's prefixes.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        reason: 'Read access from the L2 grant, limited to the artifact bucket.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:List*]',
        reason: 'SageMaker lists the training channel and model prefixes.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken and cloudwatch:PutMetricData (namespace-conditioned) have no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]',
        reason: 'SageMaker names its log groups per job and endpoint under /aws/sagemaker/.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*:*]',
        reason: 'Log streams of those SageMaker log groups.',
      },
    );
  }

  /**
   * The endpoint, held by a custom resource that keeps the approved model through stack updates
   * (lib/constructs/model-endpoint.ts), named for the use case and the instance type: SageMaker
   * refuses to change the instance type of a variant that autoscaling targets, so a new type makes
   * a new endpoint, which starts with the model the old one runs.
   */
  private createEndpoint(
    props: InferenceEndpointProps,
    modelArtifactKey: string,
    capture: number,
    names: { readonly prefix: string; readonly name: string },
  ): ModelEndpoint {
    if (!props.auditBus) {
      throw new Error(
        `auditBus is required with modelArtifactKey (${props.useCase}): the stack's model deployments are audited`,
      );
    }
    return new ModelEndpoint(this, 'Endpoint', {
      useCase: props.useCase,
      endpointName: names.name,
      endpointNamePrefix: names.prefix,
      role: this.role,
      image: this.image,
      modelDataUrl: props.artifactBucket.s3UrlForObject(modelArtifactKey),
      instanceType: props.instanceType,
      initialInstanceCount: props.minInstances,
      encryptionKey: props.encryptionKey,
      // Instance storage is encrypted by the instance's hardware, and SageMaker refuses a key for it.
      encryptConfiguration: !hasInstanceStorage(props.instanceType),
      capturePercent: capture,
      captureDestination: props.artifactBucket.s3UrlForObject(this.dataCapturePrefix),
      rollbackAlarmNames: this.rollbackAlarms.map((alarm) => alarm.alarmName),
      auditBus: props.auditBus,
    });
  }

  /**
   * Target tracking on invocations per instance and on CPU utilization, between the manifest's
   * min and max: Application Auto Scaling scales out when either asks, in only when both allow.
   */
  private addAutoscaling(endpoint: ModelEndpoint, props: InferenceEndpointProps): void {
    const target = new appscaling.ScalableTarget(this, instanceScoped('Scaling', props.instanceType), {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${endpoint.endpointName}/variant/AllTraffic`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: props.minInstances,
      maxCapacity: props.maxInstances,
    });
    target.node.addDependency(endpoint);
    target.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: props.invocationsPerInstancePerMinute,
    });
    target.scaleToTrackMetric('CpuUtilization', {
      customMetric: new cloudwatch.Metric({
        namespace: '/aws/sagemaker/Endpoints',
        metricName: 'CPUUtilization',
        dimensionsMap: { EndpointName: endpoint.endpointName, VariantName: 'AllTraffic' },
        statistic: cloudwatch.Stats.AVERAGE,
        period: Duration.minutes(1),
      }),
      targetValue: props.cpuUtilizationPercent ?? DEFAULT_CPU_UTILIZATION_PERCENT,
    });
  }

  /** Lets `grantee` score windows on the endpoint. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    if (!this.endpointArn) throw new Error('the inference endpoint has no model yet: pass modelArtifactKey');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [this.endpointArn],
    });
  }
}

/**
 * The endpoint's name: generated for this construct (unique in the stack), then the instance type,
 * so a new type makes a new endpoint; every name of the use case starts with the prefix.
 */
function endpointNames(scope: Construct, instanceType: string): { prefix: string; name: string } {
  const prefix = Names.uniqueResourceName(scope, { maxLength: 40, separator: '-' });
  if (Token.isUnresolved(instanceType)) return { prefix, name: prefix };
  return { prefix, name: `${prefix}-${instanceType.replace(/^ml\./, '').replace(/[^a-zA-Z0-9]/g, '-')}` };
}

/** A construct id that changes with the instance type, so a new type replaces the resource. */
function instanceScoped(id: string, instanceType: string): string {
  return Token.isUnresolved(instanceType) ? id : `${id}-${instanceType}`;
}

/** Checks the props eagerly, with the bad value in the message; answers the capture percentage. */
function validateProps(props: InferenceEndpointProps): number {
  const known = (value: number) => !Token.isUnresolved(value);
  if (
    known(props.minInstances) &&
    known(props.maxInstances) &&
    (props.minInstances < 1 || props.minInstances > props.maxInstances)
  ) {
    throw new Error(
      `instances must satisfy 1 <= min <= max, got min ${props.minInstances} and max ${props.maxInstances}`,
    );
  }
  // The image is built for linux/amd64 (model/Dockerfile): a Graviton instance could not run it.
  if (!Token.isUnresolved(props.instanceType) && /^ml\.[a-z]+\d+g[a-z]*\./.test(props.instanceType)) {
    throw new Error(
      `instanceType must be an x86 type such as ml.c5.large (the model image is linux/amd64), got "${props.instanceType}"`,
    );
  }
  const cpu = props.cpuUtilizationPercent;
  if (cpu !== undefined && known(cpu) && !(cpu >= 10 && cpu <= 90)) {
    throw new Error(`cpuUtilizationPercent must be from 10 to 90 (of one vCPU), got ${cpu}`);
  }
  const capture = props.dataCapturePercent ?? 20;
  if (known(capture) && (!Number.isInteger(capture) || capture < 0 || capture > 100)) {
    throw new Error(`dataCapturePercent must be a whole number from 0 to 100, got ${capture}`);
  }
  if (
    props.modelArtifactKey !== undefined &&
    !Token.isUnresolved(props.modelArtifactKey) &&
    !props.modelArtifactKey.endsWith('.tar.gz')
  ) {
    throw new Error(
      `modelArtifactKey must name a model.tar.gz in the artifact bucket, got "${props.modelArtifactKey}"`,
    );
  }
  return capture;
}
