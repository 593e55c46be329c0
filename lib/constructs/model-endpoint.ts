import * as path from 'node:path';
import { CfnElement, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { sagemakerArn } from '../grants.ts';
import { serviceFunction } from '../service-function.ts';

const HANDLERS = path.join(import.meta.dirname, '..', '..', 'lambdas', 'model-endpoint');

export interface ModelEndpointProps {
  readonly useCase: string;
  /** The endpoint's name: a new name makes a new endpoint (a new instance type). */
  readonly endpointName: string;
  /**
   * What every endpoint name of this use case starts with: the function may delete the endpoint
   * of an earlier instance type, whose name the template no longer holds.
   */
  readonly endpointNamePrefix: string;
  /** The SageMaker execution role the model runs as. */
  readonly role: iam.IRole;
  readonly image: ecrAssets.DockerImageAsset;
  /** `s3://` URL of the `model.tar.gz` the endpoint starts with. */
  readonly modelDataUrl: string;
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  readonly encryptionKey: kms.IKey;
  /** Whether the configuration names the key (SageMaker refuses one for instance storage). */
  readonly encryptConfiguration: boolean;
  readonly capturePercent: number;
  /** `s3://` prefix of data capture. */
  readonly captureDestination: string;
  /** Names of the alarms that roll a blue/green update back. */
  readonly rollbackAlarmNames: readonly string[];
  /** The bus the models the stack deploys are recorded on (audit events). */
  readonly auditBus: events.IEventBus;
}

/**
 * A use case's SageMaker endpoint, held by a custom resource (lambdas/model-endpoint) instead of
 * CloudFormation's Model, EndpointConfig and Endpoint: those would put the template's model back
 * on every change of the image (any code change) or settings, undoing the version people approved
 * in the registry. The resource creates the endpoint with the starting model; a stack update
 * changes only what it names (settings, instance type, another artifact), blue/green with the
 * rollback alarms, and keeps the live model otherwise.
 */
export class ModelEndpoint extends Construct {
  readonly resource: CustomResource;
  /** The endpoint's name, once the resource exists (depend on it through this). */
  readonly endpointName: string;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const provider = ModelEndpointProvider.of(this, props.auditBus);
    provider.grantFor(props);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AiotModelEndpoint',
      properties: {
        UseCase: props.useCase,
        EndpointName: props.endpointName,
        ExecutionRoleArn: props.role.roleArn,
        Image: props.image.imageUri,
        ModelDataUrl: props.modelDataUrl,
        InstanceType: props.instanceType,
        InitialInstanceCount: props.initialInstanceCount,
        ...(props.encryptConfiguration ? { KmsKeyId: props.encryptionKey.keyArn } : {}),
        CapturePercent: props.capturePercent,
        CaptureDestination: props.captureDestination,
        CaptureKmsKeyId: props.encryptionKey.keyArn,
        RollbackAlarmNames: props.rollbackAlarmNames,
      },
    });
    // The endpoint runs as the role: it must have its permissions first, and lose them last.
    this.resource.node.addDependency(props.role);
    this.endpointName = this.resource.getAttString('EndpointName');
  }
}

/**
 * The functions behind every model endpoint of a stack (one set, whatever the use cases): onEvent
 * starts a change, isComplete carries it on and waits for SageMaker, every 30 s, up to 55 minutes
 * (CloudFormation gives a custom resource an hour; an endpoint takes about 10 minutes to create, a
 * stack-driven blue/green update about 15).
 */
class ModelEndpointProvider extends Construct {
  static of(scope: Construct, auditBus: events.IEventBus): ModelEndpointProvider {
    const stack = Stack.of(scope);
    const id = 'ModelEndpointProvider';
    return (
      (stack.node.tryFindChild(id) as ModelEndpointProvider | undefined) ??
      new ModelEndpointProvider(stack, id, auditBus)
    );
  }

  readonly serviceToken: string;
  private readonly roles: { readonly onEvent: iam.Role; readonly isComplete: iam.Role };

  private constructor(scope: Construct, id: string, auditBus: events.IEventBus) {
    super(scope, id);
    const common = {
      roleDescription:
        "Model endpoint custom resource: creates and changes the use cases' SageMaker endpoints",
      environment: { EVENT_BUS_NAME: auditBus.eventBusName, POWERTOOLS_SERVICE_NAME: 'model-endpoint' },
      memorySize: 256,
      timeout: Duration.minutes(1),
    };
    const onEvent = serviceFunction(this, {
      ...common,
      prefix: 'OnEvent',
      entry: path.join(HANDLERS, 'on-event.ts'),
      description: "Starts creating, changing or deleting a use case's SageMaker endpoint",
    });
    const isComplete = serviceFunction(this, {
      ...common,
      prefix: 'IsComplete',
      entry: path.join(HANDLERS, 'is-complete.ts'),
      description: "Carries a change of a use case's SageMaker endpoint on, and says when it is done",
    });
    this.roles = { onEvent: onEvent.role, isComplete: isComplete.role };
    for (const role of Object.values(this.roles)) auditBus.grantPutEventsTo(role);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent.fn,
      isCompleteHandler: isComplete.fn,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.minutes(55),
      logGroup: new logs.LogGroup(this, 'FrameworkLogs', { retention: logs.RetentionDays.ONE_YEAR }),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: logs.RetentionDays.ONE_YEAR }),
        level: sfn.LogLevel.ALL,
      },
    });
    this.serviceToken = provider.serviceToken;
    acknowledgeFramework(provider, [onEvent.fn, isComplete.fn]);
  }

  /** What creating and changing this use case's endpoint needs, and nothing of other use cases. */
  grantFor(props: ModelEndpointProps): void {
    const arn = (resource: string, resourceName: string) => sagemakerArn(this, resource, resourceName);
    // Lower case as in the ARNs (sagemakerArn), which the acknowledgements below name.
    const names = `${props.useCase.toLowerCase()}-*`;
    const endpoints = arn('endpoint', `${props.endpointNamePrefix}*`);
    // onEvent creates and deletes; isComplete reads, creates what a change needs, and updates.
    const endpointActions = {
      onEvent: ['sagemaker:CreateEndpoint', 'sagemaker:DeleteEndpoint'],
      isComplete: ['sagemaker:CreateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint'],
    };
    const configActions = {
      onEvent: ['sagemaker:CreateEndpointConfig'],
      isComplete: ['sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig'],
    };
    for (const [which, role] of Object.entries(this.roles) as ['onEvent' | 'isComplete', iam.Role][]) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sagemaker:CreateModel'], resources: [arn('model', names)] }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: configActions[which],
          resources: [arn('endpoint-config', names)],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: endpointActions[which], resources: [endpoints] }),
      );
      props.role.grantPassRole(role);
      // Configurations encrypted with the data key: SageMaker creates grants on it for the endpoint.
      props.encryptionKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
      Validations.of(role).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/${names}]`,
          reason: `The function names each model ${names} (use case, version 0 for the stack's, time).`,
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/${names}]`,
          reason: `The function names each endpoint configuration ${names}.`,
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/${props.endpointNamePrefix.toLowerCase()}*]`,
          reason: `Endpoints of ${props.useCase}, one per instance type: the old one is deleted after the new one is live.`,
        },
      );
    }
  }
}

/** One of the framework's own functions (`framework-isComplete`, `framework-onTimeout`). */
function frameworkFunction(provider: cr.Provider, name: string): CfnElement {
  const child = provider.node.findChild(`framework-${name}`).node.defaultChild;
  if (!(child instanceof CfnElement)) throw new Error(`the provider has no framework-${name} function`);
  return child;
}

/** The custom-resource framework's own functions, roles and state machine: CDK's, not ours to shape. */
function acknowledgeFramework(provider: cr.Provider, handlers: lambda.IFunction[]): void {
  const stack = Stack.of(provider);
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "The custom-resource framework's own functions log with the basic execution role; they only relay to the endpoint functions.",
    },
    ...handlers.map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: 'The framework invokes every version of the endpoint functions, and nothing else.',
    })),
    {
      id: 'AwsSolutions-L1',
      reason:
        "The custom-resource framework picks its functions' runtime; they only relay to the endpoint functions.",
    },
    ...['isComplete', 'onTimeout'].map((name) => ({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(frameworkFunction(provider, name))}.Arn>:*]`,
      reason:
        "The waiter state machine invokes every version of the framework's own functions, and nothing else.",
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "CloudWatch Logs' delivery actions, which the waiter state machine's logging needs, have no resource-level permissions.",
    },
    {
      id: 'AwsSolutions-SF2',
      reason:
        "The framework's waiter state machine only loops over isComplete; its steps are in the functions' logs.",
    },
  );
}
