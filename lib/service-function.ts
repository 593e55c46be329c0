import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { FunctionNetwork } from './telemetry-store.ts';

export interface ServiceFunctionProps {
  /** The handler's source file. */
  readonly entry: string;
  readonly description: string;
  /** What the function's own role is for. */
  readonly roleDescription: string;
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Compile-time constants of the bundle (esbuild define). @default - none */
  readonly define?: Record<string, string>;
  /**
   * Construct ids of the log group, role and function, so a function keeps its resources when it
   * moves to this helper. @default `${prefix}Logs`, `${prefix}Role`, `${prefix}Function`
   */
  readonly ids?: { readonly logs: string; readonly role: string; readonly function: string };
  /** Prefix of the default ids. @default '' */
  readonly prefix?: string;
  /** Run inside a VPC, to reach a store there. @default - outside any VPC */
  readonly network?: FunctionNetwork;
}

/**
 * One of the project's Lambda functions: Node.js on ARM, bundled whole by esbuild (the SDK too:
 * the function runs the exact versions the tests ran), a log group of its own with a retention,
 * and a role of its own that may write that log group only (AWSLambdaBasicExecutionRole's log
 * permissions span every log group). Callers grant the rest to `role`.
 */
/** Which handler source a function bundles, and the constants compiled into it (esbuild define). */
export interface FunctionBundle {
  readonly entry: string;
  readonly define: Readonly<Record<string, string>>;
}

const bundles = new WeakMap<lambda.IFunction, FunctionBundle>();

/**
 * The bundle of one of the project's functions, or undefined for a function made elsewhere (the
 * CDK's own custom resources): with the function's environment in the template, it is everything
 * the handler reads at start.
 */
export function bundleOf(fn: lambda.IFunction): FunctionBundle | undefined {
  return bundles.get(fn);
}

/** A function and the role it runs as. */
export interface ServiceFunction {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
}

export function serviceFunction(scope: Construct, props: ServiceFunctionProps): ServiceFunction {
  const prefix = props.prefix ?? '';
  const ids = props.ids ?? { logs: `${prefix}Logs`, role: `${prefix}Role`, function: `${prefix}Function` };
  const logGroup = new logs.LogGroup(scope, ids.logs, {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
  });
  const role = new iam.Role(scope, ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.roleDescription,
  });
  logGroup.grantWrite(role);
  if (props.network) {
    // What AWSLambdaVPCAccessExecutionRole grants, which Lambda adds only to roles it creates itself.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "Lambda manages the function's network interfaces in its VPC; the EC2 network-interface actions take no resource-level scope at creation.",
    });
  }
  const sourceMaps = sourceMapsWanted(scope);
  const fn = new nodejs.NodejsFunction(scope, ids.function, {
    entry: props.entry,
    role,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    description: props.description,
    logGroup,
    // Node reads a bundle's source map only with --enable-source-maps (and slows its cold start).
    environment: sourceMaps
      ? { ...props.environment, NODE_OPTIONS: '--enable-source-maps' }
      : props.environment,
    ...(props.network
      ? {
          vpc: props.network.vpc,
          vpcSubnets: props.network.vpcSubnets,
          securityGroups: [...props.network.securityGroups],
        }
      : {}),
    bundling: {
      // No source maps unless asked for (-c sourceMaps=true): they were 3.5-6.2 MB a function and
      // slow every cold start. Kept names make stack traces readable without them.
      minify: true,
      keepNames: true,
      sourceMap: sourceMaps,
      target: 'node24',
      externalModules: [],
      ...(props.define ? { define: props.define } : {}),
    },
  });
  bundles.set(fn, { entry: props.entry, define: props.define ?? {} });
  return { fn, role };
}

/**
 * Whether the deployment ships source maps with its functions: `-c sourceMaps=true` (for a
 * debugging session: stack traces with file and line). @default false
 */
export function sourceMapsWanted(scope: Construct): boolean {
  const value: unknown = scope.node.tryGetContext('sourceMaps');
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`-c sourceMaps must be true or false, got ${JSON.stringify(value)}`);
}
