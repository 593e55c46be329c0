import { describe, expect, it } from 'vitest';
import { confirmationDependenciesFromEnv } from '../../lambdas/certificate-rotation/handler.ts';
import { consoleApiFromEnv } from '../../lambdas/console/handler.ts';
import { deployDependenciesFromEnv } from '../../lambdas/deploy/handler.ts';
import { driftDependenciesFromEnv } from '../../lambdas/drift/handler.ts';
import { dependenciesFromEnv, scoringFromEnv } from '../../lambdas/ingest/handler.ts';
import { fineTuneRegisterDependenciesFromEnv } from '../../lambdas/fine-tune/register.ts';
import { fineTuneStartDependenciesFromEnv } from '../../lambdas/fine-tune/start.ts';
import { kpiDependenciesFromEnv } from '../../lambdas/kpi/handler.ts';
import { modelEndpointDependenciesFromEnv } from '../../lambdas/model-endpoint/lifecycle.ts';
import { notifyDependenciesFromEnv } from '../../lambdas/notify/handler.ts';
import { preProvisioningDependenciesFromEnv } from '../../lambdas/provisioning-hook/handler.ts';
import { replayDependenciesFromEnv } from '../../lambdas/replay/handler.ts';
import {
  DEPLOYMENTS,
  deployedFunctions,
  vpcEndpointServices,
  type Deployment,
} from '../support/deployed-functions.ts';

/**
 * Every function of every kind of deployment starts from what the template gives it: its
 * environment resolved from the synthesized template (tokens as well-formed values), with the
 * constants its bundle compiles in. A variable a handler needs and the construct does not set
 * fails here, as it would fail every invocation after `cdk deploy`.
 */
type Env = Record<string, string>;

/** How each handler builds what it runs with, as its `handler` export does on the first call. */
const STARTS: Record<string, (env: Env) => unknown> = {
  'lambdas/ingest/handler.ts': (env) => ({ ingest: dependenciesFromEnv(env), scoring: scoringFromEnv(env) }),
  'lambdas/replay/handler.ts': (env) => replayDependenciesFromEnv(env),
  'lambdas/notify/handler.ts': (env) => notifyDependenciesFromEnv(env),
  'lambdas/drift/handler.ts': (env) => driftDependenciesFromEnv(env),
  'lambdas/kpi/handler.ts': (env) => kpiDependenciesFromEnv(env),
  'lambdas/console/handler.ts': (env) => consoleApiFromEnv(env),
  'lambdas/deploy/handler.ts': (env) => deployDependenciesFromEnv(env),
  'lambdas/fine-tune/start.ts': (env) => fineTuneStartDependenciesFromEnv(env),
  'lambdas/fine-tune/register.ts': (env) => fineTuneRegisterDependenciesFromEnv(env),
  'lambdas/model-endpoint/on-event.ts': (env) => modelEndpointDependenciesFromEnv(env),
  'lambdas/model-endpoint/is-complete.ts': (env) => modelEndpointDependenciesFromEnv(env),
  'lambdas/provisioning-hook/handler.ts': (env) => preProvisioningDependenciesFromEnv(env),
  'lambdas/certificate-rotation/handler.ts': (env) => confirmationDependenciesFromEnv(env),
  // A custom resource: what it works on comes in the event's properties, not the environment.
  'lambdas/influx-setup/handler.ts': () => ({}),
};

/**
 * The AWS service each environment variable makes a function call, by the variable's name (the
 * constructs name them so), as the VPC endpoint service it needs. A variable with an AWS-looking
 * name this table does not know fails, so a new one is added here rather than overlooked.
 */
const SERVICE_OF: [RegExp, string][] = [
  [/^INFLUX_BUCKETS?$|^INFLUX_URL$|^INFLUX_SETUP$/, 'none: the InfluxDB instance, inside the VPC'],
  [/_TABLE$/, 'dynamodb'],
  [/_QUEUE_URL$/, 'sqs'],
  [/_TOPIC_ARN$|_TOPICS$/, 'sns'],
  [/_BUS_NAME$/, 'events'],
  [/_SECRET$/, 'secretsmanager'],
  [/_BUCKET$/, 's3'],
  [/^ENDPOINT_NAME$|^MODEL_ENDPOINTS$/, 'sagemaker.runtime'],
  [/^MODEL_PACKAGE_GROUPS$/, 'sagemaker.api'],
];
const AWS_LOOKING = /_(TABLE|QUEUE_URL|TOPIC_ARN|TOPICS|BUS_NAME|SECRET|BUCKETS?|ARN|ENDPOINTS?|STREAM)$/;
/**
 * What a handler calls that its environment does not name: the setup reads the secrets its event
 * names; the fine-tuning start function writes training data and starts training jobs.
 */
const CALLS_BEYOND_ENV: Record<string, string[]> = {
  'lambdas/influx-setup/handler.ts': ['secretsmanager'],
  // FINE_TUNE_TARGETS names the bucket the readings go to and the SageMaker jobs it starts.
  'lambdas/fine-tune/start.ts': ['s3', 'sagemaker.api'],
};

function servicesCalled(entry: string, env: Env): string[] {
  const services = Object.keys(env).flatMap((name) => {
    const known = SERVICE_OF.find(([pattern]) => pattern.test(name));
    if (known) return known[1].startsWith('none') ? [] : [known[1]];
    if (AWS_LOOKING.test(name)) throw new Error(`${entry}: which AWS service does ${name} name?`);
    return [];
  });
  return [...new Set([...services, ...(CALLS_BEYOND_ENV[entry] ?? [])])].sort();
}

describe.each(Object.keys(DEPLOYMENTS) as Deployment[])(
  'the functions of a deployment with %s',
  (deployment) => {
    const functions = deployedFunctions(deployment);

    it('GIVEN the synthesized stack THEN each of its functions has a known handler', () => {
      expect(functions.length).toBeGreaterThan(5);
      expect(functions.map((f) => f.entry).filter((entry) => !(entry in STARTS))).toEqual([]);
    });

    it.each(functions.map((f) => [f.path, f] as const))(
      'GIVEN %s WHEN it starts with the environment of the template THEN it has every variable it reads, and in a VPC an endpoint for each service they name',
      (_path, deployed) => {
        const start = STARTS[deployed.entry];
        expect(start, `no start for ${deployed.entry}`).toBeDefined();
        const built = start?.(deployed.env);
        expect(built).toBeDefined();
        if (deployed.inVpc) {
          // No NAT: each service it calls needs an endpoint in the VPC, or the call times out.
          const endpoints = vpcEndpointServices(deployment);
          expect(servicesCalled(deployed.entry, deployed.env).filter((s) => !endpoints.has(s))).toEqual([]);
        }
        if (deployed.entry === 'lambdas/ingest/handler.ts' && deployed.env.ENDPOINT_NAME !== undefined) {
          // With an endpoint the function scores: the scoring half must be built, not skipped.
          expect((built as { scoring: unknown }).scoring).toBeDefined();
        }
      },
    );
  },
);
