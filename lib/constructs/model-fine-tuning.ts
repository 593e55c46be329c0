import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_DETAIL_TYPE, AUDIT_EVENT_SOURCE } from '../../core/audit/audit-event.ts';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { fineTuneJobPrefix } from '../../core/model/fine-tune.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { DEAD_LETTER_QUEUE_PROPS } from '../dead-letter-queue.ts';
import { grantPutObjectsUnder, objectPrefixFinding, sagemakerArn } from '../grants.ts';
import { serviceFunction } from '../service-function.ts';
import type { TelemetryReads } from '../telemetry-store.ts';
import { compiledUseCases } from '../use-case-config.ts';
import { useCaseSchedules } from '../use-case-schedules.ts';
import type { Alerting } from './alerting.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';

const ENTRY = (name: string) =>
  path.join(import.meta.dirname, '..', '..', 'lambdas', 'fine-tune', `${name}.ts`);

export interface ModelFineTuningProps {
  /** The use cases; those with `model.fineTune.enabled` and a deployed endpoint are fine-tuned. */
  readonly useCases: readonly UseCaseManifest[];
  readonly contracts: ContractRegistry;
  /** The use cases' endpoints, by use case; those without an endpoint yet are left out. */
  readonly endpoints: ReadonlyMap<string, InferenceEndpoint>;
  /** The verdicts (its table) and the audit events that start a check (its bus). */
  readonly alerting: Alerting;
  /** Where the readings the jobs learn from are read. */
  readonly telemetry: TelemetryReads;
  /** The bucket of training data and model artifacts, and its key. */
  readonly artifactBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  /** The instance type of the fine-tuning jobs. @default 'ml.m5.large' */
  readonly trainingInstanceType?: string;
  /** How often a use case is checked for verdicts that have waited long enough. @default Duration.hours(1) */
  readonly checkEvery?: Duration;
}

/**
 * Operators' false positives fine-tune the model by themselves in the cloud: a verdict's audit
 * event (and an hourly check, for verdicts that waited a day) invokes a function that, when the
 * manifest's `model.fineTune` says a candidate is due, exports recent readings and the verdicts
 * and starts a SageMaker training job from the live model (lambdas/fine-tune/start.ts). When the
 * job ends, a second function registers its candidate pending approval with its comparison with
 * the live model (lambdas/fine-tune/register.ts). Nothing is deployed without a second person.
 */
export class ModelFineTuning extends Construct {
  readonly startFunction: lambda.IFunction;
  readonly registerFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: ModelFineTuningProps) {
    super(scope, id);
    const tuned = props.useCases.flatMap((manifest) => {
      const endpoint = props.endpoints.get(manifest.id);
      return manifest.model?.fineTune.enabled && endpoint?.endpointName
        ? [[manifest, endpoint] as const]
        : [];
    });
    if (tuned.length === 0)
      throw new Error('ModelFineTuning needs a use case with fine-tuning on and an endpoint, got none');
    const instanceType = props.trainingInstanceType ?? 'ml.m5.large';
    if (!/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(instanceType))
      throw new Error(
        `trainingInstanceType must be a SageMaker instance type such as ml.m5.large, got "${instanceType}"`,
      );
    const stack = Stack.of(this);
    const fineTuneTargets = stack.toJsonString(
      Object.fromEntries(
        tuned.map(([manifest, e]) => [
          manifest.id,
          {
            endpointName: e.endpointName ?? '',
            modelPackageGroupName: e.modelPackageGroupName,
            roleArn: e.role.roleArn,
            image: e.image.imageUri,
            bucket: props.artifactBucket.bucketName,
            trainingDataPrefix: e.trainingDataPrefix,
            modelOutputPrefix: e.modelOutputPrefix,
            instanceType,
          },
        ]),
      ),
    );
    this.startFunction = this.createStart(props, tuned, fineTuneTargets);
    this.registerFunction = this.createRegister(props, tuned, fineTuneTargets);
  }

  private createStart(
    props: ModelFineTuningProps,
    tuned: readonly (readonly [UseCaseManifest, InferenceEndpoint])[],
    fineTuneTargets: string,
  ): lambda.IFunction {
    const { fn, role } = serviceFunction(this, {
      prefix: 'Start',
      entry: ENTRY('start'),
      description: 'Starts a fine-tuning job of a use case model when false-positive verdicts call for one',
      roleDescription:
        'Fine-tuning start: reads verdicts and readings, writes training data, starts training jobs',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      environment: {
        FINE_TUNE_TARGETS: fineTuneTargets,
        ALERT_TABLE: props.alerting.table.tableName,
        EVENT_BUS_NAME: props.alerting.bus.eventBusName,
        ...props.telemetry.readerEnvironment,
        POWERTOOLS_SERVICE_NAME: 'fine-tune-start',
      },
      define: compiledUseCases(props.useCases, props.contracts),
      ...(props.telemetry.network ? { network: props.telemetry.network } : {}),
    });
    props.alerting.grantReadAlerts(role);
    props.telemetry.grantRead(role);
    // In the store's VPC the function starts jobs through SageMaker's API endpoint (no NAT).
    props.telemetry.reachService?.('SageMakerApi', ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API);
    props.alerting.bus.grantPutEventsTo(role);
    // Listings have no resource-level permissions in SageMaker.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:ListTrainingJobs', 'sagemaker:ListModelPackages'],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeEndpointConfig'],
        resources: [sagemakerArn(this, 'endpoint-config', '*')],
      }),
    );
    const findings = [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ListTrainingJobs and ListModelPackages take no resource; the function filters by the use case.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/*]',
        reason: 'The live configuration has whatever name the last deployment gave it.',
      },
    ];
    for (const [manifest, endpoint] of tuned)
      findings.push(...grantStart(role, manifest.id, endpoint, props));
    Validations.of(role).acknowledge(...findings);
    this.startTriggers(
      fn,
      tuned.map(([m]) => m.id),
      props,
    );
    return fn;
  }

  /** A verdict's audit event on the application's bus, and an hourly check of each use case. */
  private startTriggers(fn: lambda.Function, useCases: string[], props: ModelFineTuningProps): void {
    new events.Rule(this, 'VerdictRule', {
      description: 'An operator answered an alert: check whether a fine-tuning job is due',
      eventBus: props.alerting.bus,
      eventPattern: {
        source: [AUDIT_EVENT_SOURCE],
        detailType: [AUDIT_DETAIL_TYPE],
        detail: { kind: ['alert-verdict'], useCase: useCases },
      },
      targets: [
        new targets.LambdaFunction(fn, { deadLetterQueue: this.deadLetters('Start'), retryAttempts: 2 }),
      ],
    });
    const every = props.checkEvery ?? Duration.hours(1);
    useCaseSchedules(
      this,
      fn,
      useCases.map((useCase) => ({ useCase, description: `Fine-tuning check of ${useCase}`, every })),
      { name: 'fine-tune', roleDescription: 'Lets the fine-tuning checks invoke the start function' },
    );
  }

  private createRegister(
    props: ModelFineTuningProps,
    tuned: readonly (readonly [UseCaseManifest, InferenceEndpoint])[],
    fineTuneTargets: string,
  ): lambda.IFunction {
    const { fn, role } = serviceFunction(this, {
      prefix: 'Register',
      entry: ENTRY('register'),
      description: 'Registers what a fine-tuning job trained, pending approval, with its comparison',
      roleDescription: 'Fine-tuning register: reads ended training jobs, registers pending model versions',
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        FINE_TUNE_TARGETS: fineTuneTargets,
        EVENT_BUS_NAME: props.alerting.bus.eventBusName,
        POWERTOOLS_SERVICE_NAME: 'fine-tune-register',
      },
    });
    props.alerting.bus.grantPutEventsTo(role);
    const findings = tuned.flatMap(([manifest, endpoint]) => grantRegister(role, manifest.id, endpoint));
    Validations.of(role).acknowledge(...findings);
    new events.Rule(this, 'JobEndedRule', {
      description: 'A fine-tuning job ended: register its candidate, or record its failure',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Training Job State Change'],
        detail: {
          TrainingJobName: tuned.map(([m]) => ({ prefix: fineTuneJobPrefix(m.id) })),
          TrainingJobStatus: ['Completed', 'Failed', 'Stopped'],
        },
      },
      targets: [
        new targets.LambdaFunction(fn, { deadLetterQueue: this.deadLetters('Register'), retryAttempts: 2 }),
      ],
    });
    return fn;
  }

  private deadLetters(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, `${id}DeadLetterQueue`, {
      ...DEAD_LETTER_QUEUE_PROPS,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of a rule itself.',
    });
    return queue;
  }
}

type Finding = { id: string; reason: string };
const ARN_PREFIX = 'arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>';

/** Starting a use case's jobs: its training data, its live model, its jobs, its execution role. */
function grantStart(
  role: iam.Role,
  useCase: string,
  endpoint: InferenceEndpoint,
  props: ModelFineTuningProps,
): Finding[] {
  const jobs = `${fineTuneJobPrefix(useCase)}*`;
  const models = `${useCase.toLowerCase()}-*`;
  const feedback = `${endpoint.trainingDataPrefix}fine-tune/`;
  grantPutObjectsUnder(role, props.artifactBucket, props.encryptionKey, feedback);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:CreateTrainingJob'],
      resources: [sagemakerArn(role, 'training-job', jobs)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpoint'],
      resources: [endpoint.endpointArn ?? ''],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:DescribeModel'],
      resources: [sagemakerArn(role, 'model', models)],
    }),
  );
  endpoint.role.grantPassRole(role);
  return [
    {
      id: objectPrefixFinding(props.artifactBucket, feedback),
      reason: `Each fine-tuning job's readings and verdicts of ${useCase}, one folder per job.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${ARN_PREFIX}:training-job/${jobs}]`,
      reason: `Fine-tuning jobs of ${useCase} are named ${jobs} (time of start).`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${ARN_PREFIX}:model/${models}]`,
      reason: `The models of ${useCase}'s endpoint are named ${models} by its deployments.`,
    },
  ];
}

/** Registering a use case's candidates: its jobs' results, its model package group. */
function grantRegister(role: iam.Role, useCase: string, endpoint: InferenceEndpoint): Finding[] {
  const jobs = `${fineTuneJobPrefix(useCase)}*`;
  const packages = `${endpoint.modelPackageGroupName}/*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:DescribeTrainingJob'],
      resources: [sagemakerArn(role, 'training-job', jobs)],
    }),
  );
  // Pending only: an approval is a person's, never this function's (four eyes).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:CreateModelPackage'],
      resources: [sagemakerArn(role, 'model-package', packages)],
      conditions: { StringEquals: { 'sagemaker:ModelApprovalStatus': 'PendingManualApproval' } },
    }),
  );
  return [
    {
      id: `AwsSolutions-IAM5[Resource::${ARN_PREFIX}:training-job/${jobs}]`,
      reason: `Fine-tuning jobs of ${useCase} are named ${jobs} (time of start).`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::${ARN_PREFIX}:model-package/${packages.toLowerCase()}]`,
      reason: `Versions of ${useCase}'s model package group are numbered by the registry.`,
    },
  ];
}
