import type { ContractRegistry } from '../../core/contracts/registry.ts';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { accessLogsBucket, dataKey, operationsTopic } from './pipeline-foundation.ts';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acceptedContractRefs, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import { Alerting } from '../constructs/alerting.ts';
import { InferenceEndpoint } from '../constructs/inference-endpoint.ts';
import { FleetProvisioning } from '../constructs/fleet-provisioning.ts';
import { KpiSchedule } from '../constructs/kpi-schedule.ts';
import { OperatorConsole, type OperatorConsoleProps } from '../constructs/operator-console.ts';
import { DriftChecks } from '../constructs/drift-checks.ts';
import { AuditTrail, type AuditTrailProps } from '../constructs/audit-trail.ts';
import { ModelDeployment } from '../constructs/model-deployment.ts';
import { ModelFineTuning } from '../constructs/model-fine-tuning.ts';
import { Personas } from '../constructs/personas.ts';
import { IotLogging, type IotLoggingProps } from '../constructs/iot-logging.ts';
import { SecureBucket } from '../constructs/secure-bucket.ts';
import { UseCaseIngestion, type UseCaseIngestionProps } from '../constructs/use-case-ingestion.ts';
import {
  InfluxTelemetryStore,
  type InfluxTelemetryStoreProps,
} from '../constructs/influx-telemetry-store.ts';
import { LiveAnalyticsReads, type TelemetryDatabase } from '../constructs/telemetry-database.ts';
import type { TelemetryReads, TelemetryStoreKind } from '../telemetry-store.ts';

export interface PipelineStackProps extends StackProps {
  /** The validated use-case manifests; each one gets its own ingestion resources. */
  readonly useCases: readonly UseCaseManifest[];
  /** The data contracts the use cases accept (`loadCatalog()` loads both). */
  readonly contracts: ContractRegistry;
  /** Tuning applied to every use case's ingest pipeline. @default - the IngestPipeline defaults */
  readonly pipeline?: UseCaseIngestionProps['pipeline'];
  /**
   * Trained model artifact per use case (key of a model.tar.gz in the artifact bucket). A use case
   * with a model section but no artifact gets its image and role, and no endpoint yet.
   * @default - no endpoints
   */
  readonly modelArtifacts?: Readonly<Record<string, string>>;
  /** Sign-in and API settings of the operator console. @default - the OperatorConsole defaults */
  readonly console?: Pick<OperatorConsoleProps, 'domainPrefix' | 'mfa' | 'sessionLength' | 'throttle'>;
  /**
   * The stack's CloudTrail trail, or false where an organization trail already records the account
   * (its data events for this stack's buckets and tables are then the organization's to add).
   * @default - a trail whose files are locked and kept 365 days
   */
  readonly auditTrail?: Pick<AuditTrailProps, 'retention'> | false;
  /**
   * Where readings and scores are kept. `influxdb`: Timestream for InfluxDB, which every account
   * can create. `liveanalytics`: Timestream for LiveAnalytics, only for accounts that used it
   * before 2025-06-20 (it takes no new customers).
   * @default 'influxdb'
   */
  readonly telemetryStore?: TelemetryStoreKind;
  /**
   * AWS IoT Core logging (refused connections and publishes, failed rule actions), or false where
   * the account's IoT logging is set elsewhere: it is one setting per account and region, so only
   * one stack of an account may own it.
   * @default - IoT Core logs errors to AWSIotLogsV2, kept a year
   */
  readonly iotLogging?: IotLoggingProps | false;
  /**
   * Fleet provisioning by claim (a template, its allow-list hook and the claim policy), or false
   * where devices are registered one by one (`aiot devices register`). @default - provisioning on
   */
  readonly fleetProvisioning?: false;
  /**
   * The fleet the InfluxDB disk is sized for: devices per use case and readings per device a
   * second. @default - 100 devices per use case, 1 reading a second
   */
  readonly fleet?: { readonly devicesPerUseCase?: number; readonly readingsPerSecond?: number };
  /** Sizing and network of the InfluxDB store. @default - the InfluxTelemetryStore defaults */
  readonly influx?: Omit<InfluxTelemetryStoreProps, 'useCases' | 'encryptionKey'>;
}

/** The aiot-pipeline application: shared encryption and quarantine, and one ingestion path per use case. */
export class PipelineStack extends Stack {
  readonly encryptionKey: kms.Key;
  /** Every alarm of the stack notifies it, firing and clearing. */
  readonly operationsTopic: sns.Topic;
  readonly quarantineBucket: s3.Bucket;
  readonly useCases: ReadonlyMap<string, UseCaseIngestion>;
  readonly artifactBucket: s3.Bucket;
  readonly inference: ReadonlyMap<string, InferenceEndpoint>;
  readonly alerting: Alerting;
  readonly operatorConsole: OperatorConsole;
  readonly driftChecks: DriftChecks;
  /** Deploys approved model versions, once a use case has an endpoint. */
  readonly modelDeployment: ModelDeployment | undefined;
  /** False positives start fine-tuning jobs, once a use case with fine-tuning on has an endpoint. */
  readonly modelFineTuning: ModelFineTuning | undefined;
  readonly auditTrail: AuditTrail | undefined;
  /** An IAM role per persona, least privilege, the auditor read-only. */
  readonly personas: Personas;
  readonly iotLogging: IotLogging | undefined;
  readonly fleetProvisioning: FleetProvisioning | undefined;
  /** The KPIs, computed every hour into the kpis table. */
  readonly kpis: KpiSchedule;
  /** The InfluxDB store, unless the stack keeps readings in Timestream for LiveAnalytics. */
  readonly influx: InfluxTelemetryStore | undefined;
  /** Where every use case's readings and scores are read from. */
  readonly telemetry: TelemetryReads;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    validateUseCases(props);

    this.encryptionKey = dataKey(this);
    const accessLogs = accessLogsBucket(this);
    this.operationsTopic = operationsTopic(this, this.encryptionKey);
    this.iotLogging =
      props.iotLogging === false ? undefined : new IotLogging(this, 'IotLogging', props.iotLogging);
    this.quarantineBucket = this.secureBucket(
      'Quarantine',
      accessLogs,
      'QuarantineBucketName',
      'Quarantined messages (quarantine/), rule errors (undeliverable/), Timestream rejections',
    );
    this.artifactBucket = this.secureBucket(
      'Artifacts',
      accessLogs,
      'ArtifactBucketName',
      'Model training data (training-data/), artifacts (models/) and endpoint data capture (data-capture/)',
    );
    this.alerting = this.createAlerting(props);
    this.inference = this.inferenceEndpoints(props);

    this.influx = this.influxStore(props);

    this.useCases = this.createUseCases(props);
    this.telemetry = this.telemetryReads(props);
    const telemetry = this.telemetry;
    this.driftChecks = new DriftChecks(this, 'Drift', {
      useCases: props.useCases,
      contracts: props.contracts,
      alerting: this.alerting,
      telemetry,
      endpoints: this.inference,
    });
    this.kpis = new KpiSchedule(this, 'Kpis', {
      useCases: props.useCases,
      contracts: props.contracts,
      alerting: this.alerting,
      telemetry,
      encryptionKey: this.encryptionKey,
    });
    this.operatorConsole = new OperatorConsole(this, 'Console', {
      ...props.console,
      useCases: props.useCases,
      contracts: props.contracts,
      alerting: this.alerting,
      telemetry,
      kpiTable: this.kpis.table,
      endpoints: this.inference,
      accessLogsBucket: accessLogs,
    });
    this.modelDeployment = this.createModelDeployment();
    this.modelFineTuning = this.createModelFineTuning(props);
    this.auditTrail = this.createAuditTrail(props, accessLogs);
    this.fleetProvisioning = this.createFleetProvisioning(props);
    this.personas = new Personas(this, 'Personas', {
      alerting: this.alerting,
      telemetry,
      dataKey: this.encryptionKey,
      quarantineBucket: this.quarantineBucket,
      artifactBucket: this.artifactBucket,
      endpoints: this.inference,
      ...(this.auditTrail ? { auditTrail: this.auditTrail } : {}),
    });
    this.outputPersonas();
  }

  /** One ingestion path per use case: its rule, queues, validation and storage. */
  private createUseCases(props: PipelineStackProps): Map<string, UseCaseIngestion> {
    return new Map(
      props.useCases.map((manifest) => [
        manifest.id,
        new UseCaseIngestion(this, `UseCase-${manifest.id}`, {
          manifest,
          contracts: props.contracts.getAll(acceptedContractRefs(manifest)),
          encryptionKey: this.encryptionKey,
          quarantineBucket: this.quarantineBucket,
          pipeline: props.pipeline,
          inference: this.inference.get(manifest.id),
          alerting: this.alerting,
          ...(this.influx ? { telemetry: this.influx.useCase(manifest.id) } : {}),
        }),
      ]),
    );
  }

  /** InfluxDB where the stack has it; otherwise the use cases' LiveAnalytics databases. */
  private telemetryReads(props: PipelineStackProps): TelemetryReads {
    if (this.influx) return this.influx;
    const databases = new Map(
      [...this.useCases].flatMap(([id, ingestion]) =>
        ingestion.database ? [[id, ingestion.database] as [string, TelemetryDatabase]] : [],
      ),
    );
    return new LiveAnalyticsReads(this, props.useCases, databases);
  }

  private createModelDeployment(): ModelDeployment | undefined {
    if (![...this.inference.values()].some((e) => e.endpoint)) return undefined;
    return new ModelDeployment(this, 'ModelDeployment', {
      endpoints: this.inference,
      alerting: this.alerting,
      encryptionKey: this.encryptionKey,
    });
  }

  private createModelFineTuning(props: PipelineStackProps): ModelFineTuning | undefined {
    const tuned = props.useCases.some((m) => m.model?.fineTune.enabled && this.inference.get(m.id)?.endpoint);
    if (!tuned) return undefined;
    return new ModelFineTuning(this, 'ModelFineTuning', {
      useCases: props.useCases,
      contracts: props.contracts,
      endpoints: this.inference,
      alerting: this.alerting,
      telemetry: this.telemetry,
      artifactBucket: this.artifactBucket,
      encryptionKey: this.encryptionKey,
    });
  }

  private createAuditTrail(props: PipelineStackProps, accessLogs: s3.IBucket): AuditTrail | undefined {
    if (props.auditTrail === false) return undefined;
    return new AuditTrail(this, 'Audit', {
      ...props.auditTrail,
      dataEventBuckets: [this.quarantineBucket, this.artifactBucket],
      dataEventTables: [this.alerting.table],
      accessLogsBucket: accessLogs,
    });
  }

  private createFleetProvisioning(props: PipelineStackProps): FleetProvisioning | undefined {
    if (props.fleetProvisioning === false) return undefined;
    const devicePolicies = new Map(
      [...this.useCases].map(([useCaseId, ingestion]) => [useCaseId, ingestion.devicePolicy.policyName]),
    );
    return new FleetProvisioning(this, 'Provisioning', {
      devicePolicies,
      encryptionKey: this.encryptionKey,
    });
  }

  private secureBucket(id: string, accessLogs: s3.IBucket, outputId: string, description: string): s3.Bucket {
    const bucket = new SecureBucket(this, id, {
      encryptionKey: this.encryptionKey,
      accessLogsBucket: accessLogs,
    }).bucket;
    new CfnOutput(this, outputId, { description, value: bucket.bucketName });
    return bucket;
  }

  /** Each use case with a model: its image, role and registry group, and its endpoint once trained. */
  private inferenceEndpoints(props: PipelineStackProps): Map<string, InferenceEndpoint> {
    return new Map(
      props.useCases.flatMap((manifest) => {
        if (!manifest.model) return [];
        const inference = new InferenceEndpoint(this, `Inference-${manifest.id}`, {
          useCase: manifest.id,
          artifactBucket: this.artifactBucket,
          encryptionKey: this.encryptionKey,
          ...manifest.model.endpoint,
          dataCapturePercent: manifest.model.dataCapturePercent,
          modelArtifactKey: props.modelArtifacts?.[manifest.id],
          auditBus: this.alerting.bus,
        });
        new CfnOutput(inference, 'ImageUri', {
          description: `Model image of ${manifest.id}`,
          value: inference.image.imageUri,
        });
        new CfnOutput(inference, 'RoleArn', {
          description: `SageMaker execution role of ${manifest.id}`,
          value: inference.role.roleArn,
        });
        new CfnOutput(inference, 'ModelPackageGroupName', {
          description: `Model Registry group of ${manifest.id}: register trained versions here; an approval by another person deploys them`,
          value: inference.modelPackageGroupName,
        });
        if (inference.endpointName) {
          new CfnOutput(inference, 'EndpointName', {
            description: `Inference endpoint of ${manifest.id}`,
            value: inference.endpointName,
          });
        }
        return [[manifest.id, inference] as const];
      }),
    );
  }

  private influxStore(props: PipelineStackProps): InfluxTelemetryStore | undefined {
    const influx =
      (props.telemetryStore ?? 'influxdb') === 'influxdb'
        ? new InfluxTelemetryStore(this, 'Telemetry', {
            ...props.influx,
            useCases: props.useCases.map((u) => ({
              id: u.id,
              retention: Duration.days(u.storage.magneticRetentionDays),
              devices: props.fleet?.devicesPerUseCase,
              readingsPerSecond: props.fleet?.readingsPerSecond,
            })),
            encryptionKey: this.encryptionKey,
          })
        : undefined;
    if (influx) {
      new CfnOutput(this, 'InfluxDbUrl', {
        description: 'InfluxDB API and UI (inside the VPC); a bucket per use case',
        value: influx.url,
      });
      new CfnOutput(this, 'InfluxDbAdminSecretArn', {
        description:
          "InfluxDB admin user and password: for creating analysts' own users, not for applications",
        value: influx.adminSecret.secretArn,
      });
      new CfnOutput(this, 'InfluxDbReadTokenSecretArn', {
        description: 'Read-only InfluxDB token of every use case bucket (analysts, dashboards)',
        value: influx.readTokenSecret.secretArn,
      });
    }
    return influx;
  }

  private createAlerting(props: PipelineStackProps): Alerting {
    const alerting = new Alerting(this, 'Alerting', {
      encryptionKey: this.encryptionKey,
      useCases: props.useCases.map((u) => ({ id: u.id, groupWindowSeconds: u.alerts.groupWindowSeconds })),
    });
    new CfnOutput(this, 'AlertTableName', {
      description: 'Device baselines, alert state, alerts, silences and feedback',
      value: alerting.table.tableName,
    });
    new CfnOutput(this, 'EventBusName', {
      description: 'Alert events (Alert Opened, Alert Acknowledged, Alert Resolved, Feedback Given)',
      value: alerting.bus.eventBusName,
    });
    for (const [useCase, topic] of alerting.topics) {
      new CfnOutput(this, `AlertTopic-${useCase}`, {
        description: `Subscribe people to ${useCase}'s grouped alert notifications here`,
        value: topic.topicArn,
      });
    }
    return alerting;
  }

  private outputPersonas(): void {
    for (const [persona, role] of this.personas.roles) {
      new CfnOutput(this.personas, `${persona}RoleArn`, {
        description: `IAM role of the ${persona} persona (assumed with MFA)`,
        value: role.roleArn,
      });
    }
    if (this.auditTrail) {
      new CfnOutput(this, 'AuditTrailBucketName', {
        description: 'CloudTrail log files of this account (Object Lock, governance mode)',
        value: this.auditTrail.bucket.bucketName,
      });
    }
  }
}

/** Use cases are named once each, and model artifacts only for use cases of the stack. */
function validateUseCases(props: PipelineStackProps): void {
  if (props.useCases.length === 0) {
    throw new Error('PipelineStack needs at least one use-case manifest, got none');
  }
  const ids = props.useCases.map((useCase) => useCase.id);
  const duplicate = ids.find((useCaseId, index) => ids.indexOf(useCaseId) !== index);
  if (duplicate) throw new Error(`use case "${duplicate}" is given twice`);
  const unknown = Object.keys(props.modelArtifacts ?? {}).filter((id) => !ids.includes(id));
  if (unknown.length > 0)
    throw new Error(`model artifacts given for unknown use cases: ${unknown.join(', ')}`);
}
