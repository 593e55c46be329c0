import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { DriftService } from '../../core/drift/drift-service.ts';
import type { DriftReport } from '../../core/drift/ports.ts';
import type { ModelDescription } from '../../core/drift/profile.ts';
import { systemClock, type Clock } from '../../core/ingest/ports.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { AwsDriftSink } from '../adapters/aws-drift-sink.ts';
import { describeEndpointModel } from '../adapters/sagemaker-model-description.ts';
import { DynamoDbAlertStore } from '../adapters/dynamodb-alert-store.ts';
import { DynamoDbDeviceReports } from '../adapters/dynamodb-device-reports.ts';
import { deploymentFromEnv } from '../shared/deployment.ts';
import { driftReadsFromEnv } from '../shared/telemetry-backend.ts';
import { bundledEnv, requireEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';

/** What the schedule sends: which use case to check. */
const eventSchema = z.strictObject({ useCase: z.string().min(1) });

export interface DriftDependencies {
  readonly manifests: ReadonlyMap<string, UseCaseManifest>;
  /** The checks of one use case, over its tables. */
  readonly serviceFor: (useCase: string) => DriftService;
  /** The model a use case's endpoint serves, when it has one (data drift needs its profile). */
  readonly modelOf: (useCase: string) => Promise<ModelDescription | undefined>;
  readonly clock: Clock;
}

/**
 * Runs one use case's drift checks when its schedule fires: findings and receipts to the table,
 * one event per finding on the bus, and figures as CloudWatch metrics.
 */
export function createDriftHandler(deps: DriftDependencies) {
  return async (event: unknown, context?: Context): Promise<DriftReport> => {
    if (context) logger.addContext(context);
    const { useCase } = eventSchema.parse(event);
    const manifest = deps.manifests.get(useCase);
    if (!manifest) {
      throw new Error(`unknown use case "${useCase}" (${[...deps.manifests.keys()].join(', ')})`);
    }
    let model: ModelDescription | undefined;
    try {
      model = await deps.modelOf(useCase);
    } catch (error) {
      // The other checks do not need the model: run them, and say why data drift was not.
      logger.warn('no model description: the data-drift check is skipped', {
        useCase,
        error: error as Error,
      });
    }
    const report = await deps.serviceFor(useCase).run(manifest, model, deps.clock.now());
    metrics.addDimension('UseCase', useCase);
    metrics.addMetric('DevicesChecked', MetricUnit.Count, report.devices);
    metrics.addMetric('DriftFindings', MetricUnit.Count, report.findings.length);
    metrics.addMetric(
      'MissingReadings',
      MetricUnit.Count,
      report.receipts.reduce((sum, r) => sum + r.missing, 0),
    );
    metrics.publishStoredMetrics();
    logger.info('drift checks', {
      useCase,
      devices: report.devices,
      findings: report.findings.map((f) => `${f.check} ${f.deviceId ?? 'model'}: ${f.summary}`),
    });
    return report;
  };
}

/** Wires the checks from the environment the DriftChecks construct sets. */
export function driftDependenciesFromEnv(env: NodeJS.ProcessEnv = process.env): DriftDependencies {
  const { contracts, manifests } = deploymentFromEnv(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const tableName = requireEnv('ALERT_TABLE', env);
  const store = new DynamoDbAlertStore(documents, tableName);
  const readsOf = driftReadsFromEnv(env, contracts, new DynamoDbDeviceReports(documents, tableName));
  const sink = new AwsDriftSink(
    documents,
    tableName,
    new EventBridgeClient({}),
    requireEnv('EVENT_BUS_NAME', env),
  );
  const byId = new Map(manifests.map((m) => [m.id, m]));
  const endpoints = z.record(z.string(), z.string()).parse(JSON.parse(env.MODEL_ENDPOINTS ?? '{}'));
  const sagemaker = new SageMakerRuntimeClient({});
  return {
    manifests: byId,
    modelOf: async (useCase) => {
      const endpoint = endpoints[useCase];
      return endpoint ? describeEndpointModel(sagemaker, endpoint) : undefined;
    },
    clock: systemClock,
    serviceFor: (useCase) => {
      const manifest = byId.get(useCase);
      if (!manifest) throw new Error(`unknown use case "${useCase}"`);
      return new DriftService(contracts, readsOf(manifest), store, store, sink);
    },
  };
}

let handlerInstance: ReturnType<typeof createDriftHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<DriftReport> => {
  // Built on first call so that a missing variable fails the invocation with its name, not the import.
  handlerInstance ??= createDriftHandler(driftDependenciesFromEnv(bundledEnv()));
  return handlerInstance(event, context);
};
