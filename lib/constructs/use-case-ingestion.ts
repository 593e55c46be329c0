import type { DataContract } from '../../core/contracts/contract.ts';
import { CfnOutput, Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { alertInferenceOf, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import { DeviceTelemetryPolicy } from './device-policy.ts';
import { EdgeHealth } from './edge-health.ts';
import type { Alerting } from './alerting.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';
import { IngestPipeline, type IngestPipelineProps } from './ingest-pipeline.ts';
import { TelemetryDatabase } from './telemetry-database.ts';
import type { UseCaseTelemetry } from '../telemetry-store.ts';

export interface UseCaseIngestionProps {
  readonly manifest: UseCaseManifest;
  /** The contract versions the manifest accepts, its current one first. */
  readonly contracts: readonly DataContract[];
  readonly encryptionKey: kms.IKey;
  readonly quarantineBucket: s3.IBucket;
  /** Tuning passed through to the ingest pipeline. @default - the IngestPipeline defaults */
  readonly pipeline?: Pick<
    IngestPipelineProps,
    'batchSize' | 'maxBatchingWindow' | 'maxConcurrency' | 'maxQueueAge' | 'maxReceiveCount' | 'ruleName'
  >;
  /** Where stored readings are scored. @default - no scoring */
  readonly inference?: InferenceEndpoint;
  /** The stack's alert table, bus and topics. */
  readonly alerting: Alerting;
  /**
   * Where the use case's readings and scores are stored (a bucket of the stack's InfluxDB store).
   * @default - a Timestream for LiveAnalytics database of its own, with the manifest's retention
   */
  readonly telemetry?: UseCaseTelemetry;
}

/** Everything one use-case manifest needs to ingest its telemetry: store, pipeline, device policy and edge health. */
export class UseCaseIngestion extends Construct {
  readonly telemetry: UseCaseTelemetry;
  /** The use case's Timestream for LiveAnalytics database, when it has one. */
  readonly database: TelemetryDatabase | undefined;
  readonly pipeline: IngestPipeline;
  readonly devicePolicy: DeviceTelemetryPolicy;
  readonly edgeHealth: EdgeHealth;

  constructor(scope: Construct, id: string, props: UseCaseIngestionProps) {
    super(scope, id);
    const { manifest } = props;
    if (props.telemetry) {
      this.telemetry = props.telemetry;
    } else {
      this.database = new TelemetryDatabase(this, 'Telemetry', {
        memoryRetention: Duration.hours(manifest.storage.memoryRetentionHours),
        magneticRetention: Duration.days(manifest.storage.magneticRetentionDays),
        encryptionKey: props.encryptionKey,
        rejectedRecordsBucket: props.quarantineBucket,
      });
      this.telemetry = this.database;
    }
    this.pipeline = new IngestPipeline(this, 'Ingest', {
      ...props.pipeline,
      useCase: manifest.id,
      contracts: props.contracts,
      telemetry: this.telemetry,
      quarantineBucket: props.quarantineBucket,
      encryptionKey: props.encryptionKey,
      scoring: props.inference && {
        endpoint: props.inference,
        alerting: props.alerting,
        policy: manifest.alerts,
        inference: alertInferenceOf(manifest),
        sensors: (manifest.model?.features ?? manifest.sensors.map((sensor) => sensor.field)).map((field) =>
          field.replace(/^measures\./, ''),
        ),
      },
    });
    this.devicePolicy = new DeviceTelemetryPolicy(this, 'DevicePolicy', {
      useCase: manifest.id,
      ruleName: this.pipeline.ruleName,
    });

    this.edgeHealth = new EdgeHealth(this, 'EdgeHealth', {
      useCase: manifest.id,
      latest: { table: props.alerting.table, encryptionKey: props.encryptionKey },
    });

    new CfnOutput(this, 'IngestRuleName', {
      description: `Rule name for the edge agent's --rule-name (Basic Ingest) for ${manifest.id}`,
      value: this.pipeline.ruleName,
    });
    new CfnOutput(this, 'BasicIngestTopic', {
      description: `Topic a ${manifest.id} device publishes to (replace <thing> by its thing name)`,
      value: this.pipeline.basicIngestTopicFor('<thing>'),
    });
    new CfnOutput(this, 'QuarantineReplayFunction', {
      description: `Replays ${manifest.id}'s quarantined messages after a contract fix: aws lambda invoke --function-name <this> --payload '{"since":"<ISO time>"}' out.json`,
      value: this.pipeline.replayFunction.functionName,
    });
    new CfnOutput(this, 'DevicePolicyName', {
      description: `IoT policy to attach to each ${manifest.id} device certificate`,
      value: this.devicePolicy.policyName,
    });
    if (this.database) {
      new CfnOutput(this, 'TimestreamDatabase', {
        description: `Timestream database of ${manifest.id}; telemetry is in table "${this.database.tableName}"`,
        value: this.database.databaseName,
      });
    }
  }
}
