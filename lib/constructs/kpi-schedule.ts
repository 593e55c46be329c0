import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { useCaseSchedules } from '../use-case-schedules.ts';
import { serviceFunction } from '../service-function.ts';
import type { TelemetryReads } from '../telemetry-store.ts';
import { compiledUseCases } from '../use-case-config.ts';
import type { Alerting } from './alerting.ts';
import { recordTableProps } from '../record-table.ts';

const HANDLER_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'kpi', 'handler.ts');

export interface KpiScheduleProps {
  /** The use cases whose computed KPIs are kept (those with a `compute` in their manifest). */
  readonly useCases: readonly UseCaseManifest[];
  readonly contracts: ContractRegistry;
  /** Where alerts are read from, for the KPIs built on them. */
  readonly alerting: Alerting;
  /** Where every use case's readings are read from. */
  readonly telemetry: TelemetryReads;
  /** Encrypts the kpis table. */
  readonly encryptionKey: kms.IKey;
  /** How often each use case's missing days are computed. @default Duration.hours(1) */
  readonly every?: Duration;
  /** What a stack deletion does to the kpis table: the KPI history. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

/**
 * KPIs that report themselves in the cloud: an EventBridge Scheduler schedule per use case invokes
 * one function, which computes each computed KPI's full days of the last week that the `kpis`
 * table lacks, from the store and the alert table, with the code the local runtime runs.
 */
export class KpiSchedule extends Construct {
  readonly table: dynamodb.Table;
  readonly function: nodejs.NodejsFunction;
  readonly schedules: ReadonlyMap<string, scheduler.Schedule>;
  /** Runs the schedules could not deliver after their retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: KpiScheduleProps) {
    super(scope, id);
    const every = props.every ?? Duration.hours(1);
    if (every.toMinutes() < 5 || every.toMinutes() > 1440)
      throw new Error(`every must be from 5 minutes to a day, got ${every.toHumanString()}`);
    const computed = props.useCases.filter((manifest) => manifest.kpis.some((kpi) => kpi.compute));

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      ...recordTableProps(props.encryptionKey),
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const { fn, role } = serviceFunction(this, {
      entry: HANDLER_ENTRY,
      description: "Computes the use cases' KPIs from the store into the kpis table",
      roleDescription: 'Reads readings and alerts; writes KPI days, M&V points and savings',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: {
        ALERT_TABLE: props.alerting.table.tableName,
        KPI_TABLE: this.table.tableName,
        ...props.telemetry.readerEnvironment,
        // The M&V series for the dashboards, where the store keeps them (docs/kpis.md).
        ...props.telemetry.derivedSeries?.environment,
        POWERTOOLS_SERVICE_NAME: 'kpis',
        POWERTOOLS_METRICS_NAMESPACE: 'aiot/kpis',
      },
      define: compiledUseCases(props.useCases, props.contracts),
      ...(props.telemetry.network ? { network: props.telemetry.network } : {}),
    });
    this.function = fn;
    props.telemetry.grantRead(role);
    props.telemetry.derivedSeries?.grantWrite(role);
    props.alerting.grantReadAlerts(role);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
      resourceArns: [this.table.tableArn],
    });
    props.encryptionKey.grant(role, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');

    ({ schedules: this.schedules, deadLetterQueue: this.deadLetterQueue } = useCaseSchedules(
      this,
      fn,
      computed.map((manifest) => ({
        useCase: manifest.id,
        description: `KPIs of ${manifest.id}: the days the kpis table lacks`,
        every,
      })),
      {
        name: 'KPI',
        roleDescription:
          'Lets the KPI schedules invoke the KPI function and dead-letter what they cannot deliver',
      },
    ));

    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description:
        'KPI days (pk KPI#<use case>, sk <kpi>#<day>), M&V points (pk MV#<use case>) and savings (pk SAVINGS#<use case>, sk <kpi>): docs/kpis.md',
    });
  }
}
