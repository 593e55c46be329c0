import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { bundleOf } from '../../lib/service-function.ts';
import type { PipelineStackProps } from '../../lib/stacks/pipeline-stack.ts';
import { LIVE_ANALYTICS, pipelineStack } from './cdk.ts';
import {
  definedEnvironment,
  functionEnvironment,
  resolveDeep,
  REGION,
  resolveValue,
  type TemplateJson,
} from './template-env.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

const MODELS: Partial<PipelineStackProps> = {
  modelArtifacts: {
    'pump-maintenance': 'models/pump-maintenance/job/output/model.tar.gz',
    'hvac-energy': 'models/hvac-energy/job/output/model.tar.gz',
  },
};

/** The kinds of deployment whose functions the tests start: each store, with and without models. */
export const DEPLOYMENTS = {
  'InfluxDB, no trained model': {},
  'InfluxDB, trained models': MODELS,
  'LiveAnalytics, no trained model': LIVE_ANALYTICS,
  'LiveAnalytics, trained models': { ...LIVE_ANALYTICS, ...MODELS },
} satisfies Record<string, Partial<PipelineStackProps>>;

export type Deployment = keyof typeof DEPLOYMENTS;

export interface DeployedFunction {
  /** The function's construct path, e.g. `Test/UseCase-pump-maintenance/Ingest/Function`. */
  readonly path: string;
  /** Its handler's source, from the repository root. */
  readonly entry: string;
  /**
   * What the handler finds in `process.env` once deployed: the template's variables with their
   * tokens resolved, the constants its bundle compiles in, and the region Lambda sets.
   */
  readonly env: Record<string, string>;
  /** Whether it runs in a VPC (the template gives it a `VpcConfig`). */
  readonly inVpc: boolean;
  /** Its memory in MB (`MemorySize`; Lambda's default, 128, when the template leaves it out). */
  readonly memoryMb: number;
  /** The policy documents of its role in the template, every reference resolved. */
  readonly policies: readonly unknown[];
}

const synthesized = new Map<Deployment, { functions: DeployedFunction[]; template: TemplateJson }>();

/** Every function of the project in one kind of deployment, as synthesized (once per test file). */
export function deployedFunctions(deployment: Deployment): DeployedFunction[] {
  return synthesize(deployment).functions;
}

function synthesize(deployment: Deployment): { functions: DeployedFunction[]; template: TemplateJson } {
  const cached = synthesized.get(deployment);
  if (cached) return cached;
  const stack = pipelineStack(undefined, DEPLOYMENTS[deployment]);
  const template = Template.fromStack(stack).toJSON() as TemplateJson;
  const functions = stack.node.findAll().flatMap((construct) => {
    if (!(construct instanceof nodejs.NodejsFunction)) return [];
    const bundle = bundleOf(construct);
    if (!bundle) return [];
    const logicalId = Stack.of(construct).getLogicalId(construct.node.defaultChild as lambda.CfnFunction);
    return [
      {
        path: construct.node.path,
        entry: path.relative(ROOT, bundle.entry).split(path.sep).join('/'),
        env: {
          AWS_REGION: REGION,
          ...functionEnvironment(template, logicalId),
          ...definedEnvironment(bundle.define),
        },
        inVpc: template.Resources[logicalId]?.Properties?.VpcConfig !== undefined,
        memoryMb: Number(template.Resources[logicalId]?.Properties?.MemorySize ?? 128),
        policies: rolePolicies(template, logicalId),
      },
    ];
  });
  const result = { functions, template };
  synthesized.set(deployment, result);
  return result;
}

/** The synthesized template of a deployment. */
export function deployedTemplate(deployment: Deployment): TemplateJson {
  return synthesize(deployment).template;
}

/** The policy documents attached to the role of the function `logicalId`, resolved. */
function rolePolicies(template: TemplateJson, logicalId: string): unknown[] {
  const role = (template.Resources[logicalId]?.Properties?.Role as { 'Fn::GetAtt'?: [string] } | undefined)?.[
    'Fn::GetAtt'
  ]?.[0];
  if (!role) throw new Error(`${logicalId} has no role of the template`);
  return Object.values(template.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties?.Roles as { Ref?: string }[] | undefined)?.some((ref) => ref.Ref === role),
    )
    .map((r) => resolveDeep(template, r.Properties?.PolicyDocument));
}

/** The function at `constructPath` (under the test stack) in a deployment. */
export function deployedFunction(deployment: Deployment, constructPath: string): DeployedFunction {
  const functions = deployedFunctions(deployment);
  const found = functions.find((f) => f.path === `Test/${constructPath}`);
  if (!found)
    throw new Error(
      `no function Test/${constructPath} in "${deployment}": ${functions.map((f) => f.path).join(', ')}`,
    );
  return found;
}

/** The AWS services the deployment's VPC has endpoints for, by endpoint service name (`sqs`, `s3`). */
export function vpcEndpointServices(deployment: Deployment): Set<string> {
  const { template } = synthesize(deployment);
  const prefix = `com.amazonaws.${REGION}.`;
  return new Set(
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::EC2::VPCEndpoint')
      .map((resource) => resolveValue(template, resource.Properties?.ServiceName))
      .map((name) => (name.startsWith(prefix) ? name.slice(prefix.length) : name)),
  );
}

/** The environment of the function at `constructPath` (under the test stack) in a deployment. */
export function deployedEnvironment(deployment: Deployment, constructPath: string): Record<string, string> {
  return deployedFunction(deployment, constructPath).env;
}

/** The VPC endpoint service an IAM action's calls go to (`sagemaker:InvokeEndpoint` to SageMaker Runtime). */
function endpointServiceOf(action: string): string {
  if (action === 'sagemaker:InvokeEndpoint') return 'sagemaker.runtime';
  if (action.startsWith('sagemaker:')) return 'sagemaker.api';
  return action.split(':')[0] ?? action;
}

/**
 * The services a function called (its recorded IAM requests) that have no endpoint in its VPC: in
 * a VPC without NAT each such call times out. Empty for a function outside a VPC.
 */
export function servicesWithoutEndpoint(
  deployment: Deployment,
  deployed: DeployedFunction,
  requests: readonly { readonly action: string }[],
): string[] {
  if (!deployed.inVpc) return [];
  const endpoints = vpcEndpointServices(deployment);
  // iam:PassRole is authorized inside the call that passes the role, not called over the network.
  return [
    ...new Set(requests.filter((r) => r.action !== 'iam:PassRole').map((r) => endpointServiceOf(r.action))),
  ]
    .filter((s) => !endpoints.has(s))
    .sort();
}
