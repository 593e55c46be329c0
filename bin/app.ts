#!/usr/bin/env -S npx tsx
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from '../lib/nag.ts';
import { PipelineStack } from '../lib/stacks/pipeline-stack.ts';
import { loadCatalog } from '../usecases/catalog.ts';
import { TELEMETRY_STORE_KINDS, type TelemetryStoreKind } from '../lib/telemetry-store.ts';

const app = new App();
const { useCases, contracts } = loadCatalog();
// -c store=influxdb (the default: any account can create it) or liveanalytics (accounts that had it before 2025-06-20).
const store = String(app.node.tryGetContext('store') ?? 'influxdb');
if (!(TELEMETRY_STORE_KINDS as readonly string[]).includes(store)) {
  throw new Error(`-c store must be one of ${TELEMETRY_STORE_KINDS.join(', ')}, got "${store}"`);
}
new PipelineStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'AiotPipeline', {
  description: `aiot-pipeline: industrial AIoT ingestion (IoT Core -> SQS -> Lambda -> Timestream for ${store === 'influxdb' ? 'InfluxDB' : 'LiveAnalytics'})`,
  telemetryStore: store as TelemetryStoreKind,
  // -c influxTokenRotation=<any new value> issues fresh InfluxDB tokens (the replaced ones work until the next).
  // -c influxAllowReplacement=true lets a deployment replace the InfluxDB instance (after a migration).
  influx: {
    tokenRotation: String(app.node.tryGetContext('influxTokenRotation') ?? '1'),
    allowInstanceReplacement: String(app.node.tryGetContext('influxAllowReplacement')) === 'true',
  },
  useCases,
  contracts,
  // -c fleetDevices=<n per use case> -c readingsPerSecond=<r per device>: what the InfluxDB disk is sized for (100, 1).
  fleet: {
    devicesPerUseCase: positiveContext('fleetDevices'),
    readingsPerSecond: positiveContext('readingsPerSecond'),
  },
  // -c ingestConcurrency=<n>: ingest functions per use case at once (default 10); docs/scale.md says when to raise it.
  ...ingestTuning(app.node.tryGetContext('ingestConcurrency')),
  // -c modelArtifact:<useCase>=models/<useCase>/<job>/output/model.tar.gz, once a model is trained.
  modelArtifacts: Object.fromEntries(
    Object.entries(app.node.getAllContext() as Record<string, unknown>)
      .filter(([key, value]) => key.startsWith('modelArtifact:') && typeof value === 'string')
      .map(([key, value]) => [key.slice('modelArtifact:'.length), value as string]),
  ),
  // -c iotLogging=false where the account's IoT Core logging is set elsewhere (one setting per account).
  iotLogging:
    app.node.tryGetContext('iotLogging') === 'false' || app.node.tryGetContext('iotLogging') === false
      ? false
      : {},
  // -c fleetProvisioning=false where devices are registered one by one (aiot devices register).
  ...(app.node.tryGetContext('fleetProvisioning') === 'false' ||
  app.node.tryGetContext('fleetProvisioning') === false
    ? { fleetProvisioning: false as const }
    : {}),
  // -c auditTrail=false where an organization trail already records the account;
  // -c auditRetentionDays=<n> keeps (and locks) the trail's files that long.
  auditTrail:
    app.node.tryGetContext('auditTrail') === 'false' || app.node.tryGetContext('auditTrail') === false
      ? false
      : { retention: Duration.days(Number(app.node.tryGetContext('auditRetentionDays') ?? 365)) },
  // Environment-agnostic unless the deployer's CLI supplies one: synth needs no credentials.
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});
/** A positive number from the context, or undefined when it is not given; the given text in the error otherwise. */
function positiveContext(key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0)) throw new Error(`-c ${key} must be a number above 0, got ${JSON.stringify(value)}`);
  return number;
}

/** `-c ingestConcurrency=<n>` as the pipeline's maxConcurrency, the given text in the error if it is no number. */
function ingestTuning(value: unknown): { pipeline?: { maxConcurrency: number } } {
  if (value === undefined) return {};
  const maxConcurrency = Number(value);
  if (!Number.isInteger(maxConcurrency))
    throw new Error(`-c ingestConcurrency must be an integer from 2 to 1000, got ${JSON.stringify(value)}`);
  return { pipeline: { maxConcurrency } };
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
