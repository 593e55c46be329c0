import { RemovalPolicy, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { grantPutObjectsUnder, objectPrefixFinding } from '../grants.ts';
import type { TelemetryReads, UseCaseTelemetry } from '../telemetry-store.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';

export interface TelemetryDatabaseProps {
  /** How long records stay in the memory store (fast queries, late-arrival writes). */
  readonly memoryRetention: Duration;
  /** How long records stay in the magnetic store. */
  readonly magneticRetention: Duration;
  /** Customer managed key for the database and the rejected-records reports. */
  readonly encryptionKey: kms.IKey;
  /** Bucket receiving the reports of records the magnetic store rejects asynchronously. */
  readonly rejectedRecordsBucket: s3.IBucket;
  /** Name of the telemetry table inside the database. @default 'telemetry' */
  readonly tableName?: string;
  /** What a stack deletion does to the database and its tables. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const MAX_MEMORY_RETENTION = Duration.hours(8766);
const MAX_MAGNETIC_RETENTION = Duration.days(73000);

/**
 * A Timestream for LiveAnalytics database holding one use case's `telemetry` table. The database
 * name is generated; the table name is fixed inside it so queries can name it.
 */
export class TelemetryDatabase extends Construct implements UseCaseTelemetry {
  readonly kind = 'liveanalytics' as const;
  readonly database: timestream.CfnDatabase;
  readonly table: timestream.CfnTable;
  readonly databaseName: string;
  readonly tableName: string;
  readonly tableArn: string;
  readonly inferencesTable: timestream.CfnTable;
  /** Name of the inferences table inside the database: always `inferences`. */
  readonly inferencesTableName: string;
  /** How far back a record may be written: the magnetic retention (magnetic store writes are on). */
  readonly magneticRetention: Duration;
  readonly inferencesTableArn: string;
  readonly rejectedRecordsPrefix: string;
  private readonly encryptionKey: kms.IKey;
  private readonly rejectedRecordsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: TelemetryDatabaseProps) {
    super(scope, id);
    const memoryHours = props.memoryRetention.toHours();
    if (memoryHours < 1 || memoryHours > MAX_MEMORY_RETENTION.toHours()) {
      throw new Error(`memoryRetention must be 1 to 8766 hours, got ${memoryHours}`);
    }
    const magneticDays = props.magneticRetention.toDays();
    if (magneticDays < 1 || magneticDays > MAX_MAGNETIC_RETENTION.toDays()) {
      throw new Error(`magneticRetention must be 1 to 73000 days, got ${magneticDays}`);
    }
    this.magneticRetention = props.magneticRetention;
    this.tableName = props.tableName ?? 'telemetry';
    this.inferencesTableName = 'inferences';
    this.encryptionKey = props.encryptionKey;
    this.rejectedRecordsBucket = props.rejectedRecordsBucket;
    this.rejectedRecordsPrefix = `timestream-rejected/${this.node.path.replace(/\//g, '-')}/`;

    this.database = new timestream.CfnDatabase(this, 'Database', { kmsKeyId: props.encryptionKey.keyArn });
    this.databaseName = this.database.ref;
    const retentionAndRejections = (name: string): timestream.CfnTableProps => ({
      databaseName: this.databaseName,
      tableName: name,
      retentionProperties: {
        MemoryStoreRetentionPeriodInHours: String(memoryHours),
        MagneticStoreRetentionPeriodInDays: String(magneticDays),
      },
      magneticStoreWriteProperties: {
        EnableMagneticStoreWrites: true,
        MagneticStoreRejectedDataLocation: {
          S3Configuration: {
            BucketName: props.rejectedRecordsBucket.bucketName,
            EncryptionOption: 'SSE_KMS',
            KmsKeyId: props.encryptionKey.keyArn,
            ObjectKeyPrefix: this.rejectedRecordsPrefix,
          },
        },
      },
    });
    this.table = new timestream.CfnTable(this, 'Table', retentionAndRejections(this.tableName));
    // Scores of the readings, same retention: an anomaly is read beside the data that caused it.
    this.inferencesTable = new timestream.CfnTable(
      this,
      'InferencesTable',
      retentionAndRejections(this.inferencesTableName),
    );
    // Years of readings are the plant's record: deleting the stack must not delete them, as it
    // does not delete the buckets or the key.
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    for (const resource of [this.database, this.table, this.inferencesTable])
      resource.applyRemovalPolicy(removal);
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3697',
      reason:
        'Timestream for LiveAnalytics is closed to new accounts since 2025-06-20 but kept for existing ones; ' +
        'it is built only with -c store=liveanalytics, for those accounts (the default is Timestream for InfluxDB, README).',
    });
    this.tableArn = Stack.of(this).formatArn({
      service: 'timestream',
      resource: 'database',
      resourceName: `${this.databaseName}/table/${this.tableName}`,
    });
    this.inferencesTableArn = Stack.of(this).formatArn({
      service: 'timestream',
      resource: 'database',
      resourceName: `${this.databaseName}/table/${this.inferencesTableName}`,
    });
  }

  get maxRecordAge(): Duration {
    return this.magneticRetention;
  }

  get description(): string {
    return `Timestream database; telemetry is in table "${this.tableName}", scores in "${this.inferencesTableName}"`;
  }

  get writerEnvironment(): Readonly<Record<string, string>> {
    return {
      TELEMETRY_STORE: 'liveanalytics',
      TIMESTREAM_DATABASE: this.databaseName,
      TIMESTREAM_TABLE: this.tableName,
      TIMESTREAM_INFERENCES_TABLE: this.inferencesTableName,
    };
  }

  /**
   * Lets `grantee` query the telemetry table (a device's calibration readings) and, with
   * `inferences`, the inferences table too (the console's plots of scores).
   */
  grantQuery(grantee: iam.IGrantable, options: { readonly inferences?: boolean } = {}): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['timestream:Select'],
      resourceArns: options.inferences ? [this.tableArn, this.inferencesTableArn] : [this.tableArn],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['timestream:DescribeEndpoints'], resourceArns: ['*'] });
    if (grantee.grantPrincipal instanceof iam.Role) {
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'timestream:DescribeEndpoints supports no resource-level permissions; it only returns the regional query endpoint.',
      });
    }
    return grant;
  }

  /**
   * Lets `grantee` write records. Magnetic-store writes deliver their rejection reports with the
   * writer's permissions, so the grant includes the report prefix and the key.
   */
  grantWrite(grantee: iam.IGrantable, options: { readonly readBack?: boolean } = {}): iam.Grant {
    if (options.readBack) this.grantQuery(grantee);
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['timestream:WriteRecords'],
      resourceArns: [this.tableArn, this.inferencesTableArn],
    });
    // Endpoint discovery has no resource-level permissions.
    iam.Grant.addToPrincipal({ grantee, actions: ['timestream:DescribeEndpoints'], resourceArns: ['*'] });
    grantPutObjectsUnder(grantee, this.rejectedRecordsBucket, this.encryptionKey, this.rejectedRecordsPrefix);
    if (grantee.grantPrincipal instanceof iam.Role) {
      Validations.of(grantee.grantPrincipal).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'timestream:DescribeEndpoints supports no resource-level permissions; it only returns the regional write endpoint.',
        },
        {
          id: objectPrefixFinding(this.rejectedRecordsBucket, this.rejectedRecordsPrefix),
          reason:
            "Timestream writes one rejected-records report object per rejection, under this table's prefix only.",
        },
      );
    }
    return grant;
  }
}

/** Every use case's Timestream tables, for the functions that read across use cases. */
export class LiveAnalyticsReads implements TelemetryReads {
  readonly kind = 'liveanalytics' as const;
  readonly readerEnvironment: Readonly<Record<string, string>>;

  constructor(
    scope: Construct,
    useCases: readonly UseCaseManifest[],
    private readonly databases: ReadonlyMap<string, TelemetryDatabase>,
  ) {
    const missing = useCases.filter((u) => !databases.has(u.id)).map((u) => u.id);
    if (missing.length > 0) throw new Error(`telemetry has no database for use cases: ${missing.join(', ')}`);
    this.readerEnvironment = {
      TELEMETRY_STORE: 'liveanalytics',
      TELEMETRY_TABLES: Stack.of(scope).toJsonString(
        Object.fromEntries(
          useCases.flatMap((u) => {
            const database = databases.get(u.id);
            if (!database) return [];
            const { databaseName, tableName, inferencesTableName } = database;
            return [[u.id, { databaseName, tableName, inferencesTableName }]];
          }),
        ),
      ),
    };
  }

  grantRead(grantee: iam.IGrantable): void {
    for (const database of this.databases.values()) database.grantQuery(grantee, { inferences: true });
  }
}
