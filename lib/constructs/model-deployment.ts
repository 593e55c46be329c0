import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEAD_LETTER_QUEUE_PROPS } from '../dead-letter-queue.ts';
import { Construct } from 'constructs';
import { sagemakerArn } from '../grants.ts';
import { serviceFunction } from '../service-function.ts';
import type { Alerting } from './alerting.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';

const HANDLER_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'deploy', 'handler.ts');

export interface ModelDeploymentProps {
  /** The use cases' endpoints, by use case; those without an endpoint yet are left out. */
  readonly endpoints: ReadonlyMap<string, InferenceEndpoint>;
  /** The bus the deployments' audit events go to. */
  readonly alerting: Alerting;
  /** The key of the endpoints' configurations. */
  readonly encryptionKey: kms.IKey;
}

/**
 * Approval in the SageMaker Model Registry deploys: a rule on each use case's model package group
 * (status Approved) invokes a function that checks four eyes and starts a blue/green endpoint
 * update with automatic rollback (lambdas/deploy/handler.ts).
 */
export class ModelDeployment extends Construct {
  readonly function: ReturnType<typeof serviceFunction>['fn'];
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ModelDeploymentProps) {
    super(scope, id);
    const deployable = [...props.endpoints].filter(([, e]) => e.endpoint && e.rollbackAlarms.length > 0);
    if (deployable.length === 0) {
      throw new Error('ModelDeployment needs at least one use case with an endpoint, got none');
    }
    const stack = Stack.of(this);
    const { fn, role } = serviceFunction(this, {
      entry: HANDLER_ENTRY,
      description: 'Deploys model versions approved in the SageMaker Model Registry (four eyes, blue/green)',
      roleDescription: 'Model deploy function: approved packages to their endpoints',
      environment: {
        DEPLOY_TARGETS: stack.toJsonString(
          Object.fromEntries(
            deployable.map(([useCase, e]) => [
              e.modelPackageGroupName,
              {
                useCase,
                endpointName: e.endpointName ?? '',
                executionRoleArn: e.role.roleArn,
                rollbackAlarmNames: e.rollbackAlarms.map((a) => a.alarmName),
              },
            ]),
          ),
        ),
        EVENT_BUS_NAME: props.alerting.bus.eventBusName,
        POWERTOOLS_SERVICE_NAME: 'model-deploy',
      },
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    this.function = fn;
    const arn = (resource: string, resourceName: string) => sagemakerArn(this, resource, resourceName);
    for (const [useCase, endpoint] of deployable) grantDeployTo(role, useCase, endpoint, arn);
    // The live configuration it copies has whatever name the last deployment gave it.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:DescribeEndpointConfig'],
        resources: [arn('endpoint-config', '*')],
      }),
    );
    // A configuration encrypted with the data key: SageMaker creates grants on it for the endpoint.
    props.encryptionKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
    props.alerting.bus.grantPutEventsTo(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/*]',
      reason: 'DescribeEndpointConfig reads the live configuration, named by the deployment before.',
    });

    this.rule = this.approvalRule(
      fn,
      deployable.map(([, e]) => e.modelPackageGroupName),
    );
  }

  /** The rule on approvals in these groups; events it cannot deliver go to a queue of its own. */
  private approvalRule(fn: lambda.IFunction, groups: string[]): events.Rule {
    const deadLetters = new sqs.Queue(this, 'DeadLetterQueue', {
      ...DEAD_LETTER_QUEUE_PROPS,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the approval rule itself.',
    });
    return new events.Rule(this, 'ApprovalRule', {
      description: 'Model package approved in the registry: deploy it',
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Model Package State Change'],
        detail: {
          ModelPackageGroupName: groups,
          ModelApprovalStatus: ['Approved'],
        },
      },
      targets: [new targets.LambdaFunction(fn, { deadLetterQueue: deadLetters, retryAttempts: 2 })],
    });
  }
}

type SageMakerArn = (resource: string, resourceName: string) => string;

/** What deploying a use case's approved versions needs: its packages, new models and configurations, its endpoint. */
function grantDeployTo(
  role: iam.Role,
  useCase: string,
  endpoint: InferenceEndpoint,
  arn: SageMakerArn,
): void {
  const packages = arn('model-package', `${endpoint.modelPackageGroupName}/*`);
  // Lower case as in the ARNs (sagemakerArn), which the acknowledgements below name.
  const names = `${useCase.toLowerCase()}-*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:DescribeModelPackage', 'sagemaker:UpdateModelPackage'],
      resources: [packages],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sagemaker:CreateModel'], resources: [arn('model', names)] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:CreateEndpointConfig'],
      resources: [arn('endpoint-config', names)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint'],
      resources: [endpoint.endpointArn ?? ''],
    }),
  );
  endpoint.role.grantPassRole(role);
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/${endpoint.modelPackageGroupName.toLowerCase()}/*]`,
      reason: `Versions of ${useCase}'s model package group are numbered by the registry.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/${names}]`,
      reason: `The function names each new model ${names} (use case, version, time).`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/${names}]`,
      reason: `The function names each new endpoint configuration ${names}.`,
    },
  );
}
