import * as path from 'node:path';
import { CfnResource, CustomResource, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { grantSecretValue } from '../grants.ts';
import { serviceFunction } from '../service-function.ts';
import { InfluxDiskAlarm, type InfluxUseCase } from './influx-disk.ts';
import { validate } from './influx-settings.ts';
import type { FunctionNetwork, TelemetryReads, UseCaseTelemetry } from '../telemetry-store.ts';

export interface InfluxTelemetryStoreProps {
  /**
   * Each use case gets a bucket of its own, kept as long as its manifest says; the disk is sized
   * for its fleet (core/stores/influx-disk.ts).
   */
  readonly useCases: readonly InfluxUseCase[];
  /**
   * Customer managed key for the secrets and logs. The instance's storage is encrypted at rest with
   * a key AWS owns: CloudFormation's schema of the instance takes no key of ours (its KmsKeyId is refused).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * The VPC to run in; the instance goes into its private subnets in two or more AZs. Functions
   * there need VPC endpoints for the services they call: give them with your VPC.
   * @default - a VPC of two AZs with isolated subnets, flow logs and the endpoints this stack's functions need
   */
  readonly vpc?: ec2.IVpc;
  /** Timestream for InfluxDB instance type. @default 'db.influx.medium' */
  readonly instanceType?: string;
  /**
   * Storage in GiB, 20 to 15360 (the most an update accepts); less than the use cases need is a
   * synth warning. @default - what the use cases' fleets need for their retention, at 70 % full
   */
  readonly allocatedStorage?: number;
  /** `WITH_MULTIAZ_STANDBY` keeps a standby in a second AZ (about twice the price). @default 'SINGLE_AZ' */
  readonly deploymentType?: 'SINGLE_AZ' | 'WITH_MULTIAZ_STANDBY';
  /** What a stack deletion does to the instance and its data. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** InfluxDB organization. @default 'aiot' */
  readonly organization?: string;
  /**
   * Any new value makes the next deployment issue fresh tokens; the replaced ones keep working
   * until the rotation after (functions cache a token for 300 s), when they are revoked (the
   * setup resource runs only when its properties change). @default '1'
   */
  readonly tokenRotation?: string;
  /**
   * Let a deployment replace the instance. A change to its network, organization or admin user
   * makes CloudFormation build a new, empty instance; the setup resource then fails the
   * deployment (which rolls back) unless this is set, after the data has been migrated.
   * @default false
   */
  readonly allowInstanceReplacement?: boolean;
}

const SETUP_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'influx-setup', 'handler.ts');
const INFLUX_PORT = 8086;

/**
 * Timestream for InfluxDB as the telemetry store, for accounts Timestream for LiveAnalytics no
 * longer takes: one instance in private subnets, reachable on its port only from the functions'
 * security group, a bucket per use case with the manifest's retention, and two scoped tokens in
 * Secrets Manager (read-write for ingestion, read-only for drift and the console) that a setup
 * resource issues with the admin user, whose password is generated into a secret of its own.
 */
export class InfluxTelemetryStore extends Construct implements TelemetryReads {
  readonly kind = 'influxdb' as const;
  readonly vpc: ec2.IVpc;
  readonly instance: timestream.CfnInfluxDBInstance;
  /** The group the instance admits on its port: functions that read or write join it. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  readonly adminSecret: secretsmanager.Secret;
  readonly writeTokenSecret: secretsmanager.Secret;
  readonly readTokenSecret: secretsmanager.Secret;
  /** Fires before the disk is full. */
  readonly diskAlarm: cloudwatch.Alarm;
  /** Base URL of the instance's v1 and v2 HTTP API. */
  readonly url: string;
  readonly network: FunctionNetwork;
  readonly readerEnvironment: Readonly<Record<string, string>>;
  private readonly buckets: ReadonlyMap<string, { name: string; retention: Duration }>;
  private readonly encryptionKey: kms.IKey;
  /** Issues the tokens: functions name it in their environment, so they start after it. */
  private readonly setup: CustomResource;
  /** The interface endpoints of the stack's own VPC (none in a given VPC). */
  private readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[] = [];
  private readonly ownVpc: ec2.Vpc | undefined;

  constructor(scope: Construct, id: string, props: InfluxTelemetryStoreProps) {
    super(scope, id);
    const settings = validate(this, props);
    this.encryptionKey = props.encryptionKey;
    this.buckets = new Map(props.useCases.map((u) => [u.id, { name: u.id, retention: u.retention }]));
    let ownVpc: ec2.Vpc | undefined;
    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      ownVpc = this.createVpc();
      this.vpc = ownVpc;
    }
    // A given VPC's private subnets, one per AZ; our own VPC's isolated ones.
    const vpcSubnets: ec2.SubnetSelection = props.vpc
      ? { onePerAz: true }
      : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const subnetIds = this.vpc.selectSubnets(vpcSubnets).subnetIds;

    const groups = this.createSecurityGroups();
    this.clientSecurityGroup = groups.client;
    this.instanceSecurityGroup = groups.instance;
    this.ownVpc = ownVpc;
    if (ownVpc) this.addEndpoints();
    this.network = {
      vpc: this.vpc,
      vpcSubnets,
      securityGroups: [this.clientSecurityGroup],
    };

    const username = 'aiotadmin';
    const secrets = this.createSecrets(props.encryptionKey, username);
    this.adminSecret = secrets.admin;
    this.writeTokenSecret = secrets.write;
    this.readTokenSecret = secrets.read;

    const instanceName = Names.uniqueResourceName(this, { maxLength: 40, separator: '-' });
    this.instance = new timestream.CfnInfluxDBInstance(this, 'Instance', {
      // Named, so that its CloudWatch metrics (dimension DbInstanceName) can be watched.
      name: instanceName,
      dbInstanceType: settings.instanceType,
      allocatedStorage: settings.allocatedStorage,
      dbStorageType: 'InfluxIOIncludedT1',
      deploymentType: settings.deploymentType,
      publiclyAccessible: false,
      vpcSubnetIds: subnetIds,
      vpcSecurityGroupIds: [this.instanceSecurityGroup.securityGroupId],
      username,
      password: this.adminSecret.secretValueFromJson('password').unsafeUnwrap(),
      organization: settings.organization,
      // The initial bucket the instance must have; the use cases get buckets of their own.
      bucket: 'aiot-setup',
    });
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.instance.applyRemovalPolicy(removal);
    if (removal === RemovalPolicy.RETAIN && ownVpc) this.retainNetwork(ownVpc);
    this.url = `https://${this.instance.attrEndpoint}:${INFLUX_PORT}`;
    this.diskAlarm = new InfluxDiskAlarm(this, 'Disk', { instanceName }).alarm;

    this.setup = this.createSetup(
      settings.organization,
      props.tokenRotation ?? '1',
      props.allowInstanceReplacement ?? false,
    );
    this.readerEnvironment = {
      TELEMETRY_STORE: 'influxdb',
      INFLUX_URL: this.url,
      INFLUX_TOKEN_SECRET: this.readTokenSecret.secretArn,
      INFLUX_BUCKETS: Stack.of(this).toJsonString(
        Object.fromEntries([...this.buckets].map(([useCase, bucket]) => [useCase, bucket.name])),
      ),
      // The token is issued by the setup resource: readers start after it.
      INFLUX_SETUP: this.setup.ref,
    };
  }

  /** The instance admits its API port from the client group only, and sends nothing out. */
  private createSecurityGroups(): { client: ec2.SecurityGroup; instance: ec2.SecurityGroup } {
    const client = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: this.vpc,
      description: 'aiot-pipeline functions that read or write the InfluxDB telemetry store',
    });
    const instance = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: this.vpc,
      description: 'aiot-pipeline InfluxDB instance: its API port, from the pipeline functions only',
      allowAllOutbound: false,
    });
    instance.addIngressRule(client, ec2.Port.tcp(INFLUX_PORT), 'InfluxDB API from the pipeline functions');
    return { client, instance };
  }

  /** The admin's generated password, and the two tokens the setup resource issues into place. */
  private createSecrets(
    encryptionKey: kms.IKey,
    username: string,
  ): { admin: secretsmanager.Secret; write: secretsmanager.Secret; read: secretsmanager.Secret } {
    const admin = new secretsmanager.Secret(this, 'AdminSecret', {
      description: 'aiot-pipeline InfluxDB initial admin user (the setup resource signs in with it)',
      encryptionKey: encryptionKey,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username }),
        generateStringKey: 'password',
        excludePunctuation: true,
        passwordLength: 40,
      },
    });
    const tokenSecret = (name: string, description: string) =>
      new secretsmanager.Secret(this, name, {
        description,
        encryptionKey: encryptionKey,
        // A placeholder until the setup resource puts the issued token here.
        generateSecretString: { excludePunctuation: true },
      });
    const write = tokenSecret('WriteTokenSecret', 'aiot-pipeline InfluxDB token: read-write, ingestion');
    const read = tokenSecret('ReadTokenSecret', 'aiot-pipeline InfluxDB token: read-only, drift and console');
    for (const secret of [admin, write, read]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Secrets Manager cannot rotate InfluxDB users or tokens itself; a deployment with a new -c influxTokenRotation issues fresh tokens and revokes those of the rotation before (docs/operations.md).',
      });
    }
    return { admin, write, read };
  }

  /** One use case's bucket, for its ingest and replay functions. */
  useCase(useCaseId: string): UseCaseTelemetry {
    const bucket = this.buckets.get(useCaseId);
    if (!bucket)
      throw new Error(
        `no InfluxDB bucket for use case "${useCaseId}" (${[...this.buckets.keys()].join(', ')})`,
      );
    const writeTokenSecret = this.writeTokenSecret;
    return {
      kind: 'influxdb',
      maxRecordAge: bucket.retention,
      network: this.network,
      description: `InfluxDB bucket of ${useCaseId} (measurements "telemetry" and "inference")`,
      writerEnvironment: {
        TELEMETRY_STORE: 'influxdb',
        INFLUX_URL: this.url,
        INFLUX_BUCKET: bucket.name,
        INFLUX_TOKEN_SECRET: this.writeTokenSecret.secretArn,
        INFLUX_SETUP: this.setup.ref,
      },
      grantWrite(grantee: iam.IGrantable) {
        grantSecretValue(writeTokenSecret, grantee);
      },
    };
  }

  grantRead(grantee: iam.IGrantable): void {
    grantSecretValue(this.readTokenSecret, grantee);
  }

  /** The KPI function writes the M&V series into each bucket with the ingestion token (read-write). */
  get derivedSeries(): NonNullable<TelemetryReads['derivedSeries']> {
    const secret = this.writeTokenSecret;
    return {
      environment: { INFLUX_SERIES_TOKEN_SECRET: secret.secretArn },
      grantWrite(grantee: iam.IGrantable) {
        grantSecretValue(secret, grantee);
      },
    };
  }

  private createVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.encryptionKey,
    });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) });
    return vpc;
  }

  /**
   * A retained instance keeps its network interfaces in its subnets, so deleting them (and the
   * VPC, and the group its interfaces are in) would fail the stack's deletion: they stay with it.
   */
  private retainNetwork(vpc: ec2.Vpc): void {
    const resources = [
      vpc.node.defaultChild,
      ...vpc.isolatedSubnets.map((subnet) => subnet.node.defaultChild),
      this.instanceSecurityGroup.node.defaultChild,
    ];
    for (const resource of resources) {
      if (resource instanceof CfnResource) resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
  }

  /**
   * No NAT: the functions reach AWS through endpoints only, each admitting the functions' group
   * alone: S3 (quarantine), DynamoDB (alerts), Secrets Manager (tokens), EventBridge and SQS
   * (alert events, and the notify queue), SageMaker Runtime (scoring). No SNS: the notify function,
   * outside the VPC, sends every notification (test/lambdas/*-calls-allowed.test.ts record each
   * in-VPC function's calls and fail on a service without an endpoint here).
   */
  private addEndpoints(): void {
    const vpc = this.ownVpc;
    if (!vpc) return;
    vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
    const services: [string, ec2.InterfaceVpcEndpointAwsService][] = [
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['EventBridge', ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE],
      ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
      ['SageMakerRuntime', ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME],
    ];
    for (const [name, service] of services) this.reachService(name, service);
  }

  /**
   * An interface endpoint for `service` in our own VPC, admitting the functions' group alone (once
   * per id). A VPC given in the props brings its own endpoints.
   */
  reachService(id: string, service: ec2.InterfaceVpcEndpointAwsService): void {
    if (!this.ownVpc || this.ownVpc.node.tryFindChild(id)) return;
    const endpoint = this.ownVpc.addInterfaceEndpoint(id, { service, privateDnsEnabled: true, open: false });
    this.interfaceEndpoints.push(endpoint);
    endpoint.connections.allowDefaultPortFrom(this.clientSecurityGroup, 'HTTPS from the pipeline functions');
  }

  /** The setup resource: buckets, mappings and tokens, issued by a function in the VPC. */
  private createSetup(
    organization: string,
    tokenRotation: string,
    allowInstanceReplacement: boolean,
  ): CustomResource {
    const { fn, role } = serviceFunction(this, {
      prefix: 'Setup',
      entry: SETUP_ENTRY,
      description: "Creates the use cases' InfluxDB buckets and the functions' scoped tokens",
      roleDescription: 'InfluxDB setup: reads the admin secret, writes the token secrets',
      environment: { POWERTOOLS_SERVICE_NAME: 'influx-setup' },
      memorySize: 256,
      timeout: Duration.minutes(2),
      network: this.network,
    });
    grantSecretValue(this.adminSecret, role);
    for (const secret of [this.writeTokenSecret, this.readTokenSecret])
      grantSecretValue(secret, role, { write: true });
    const provider = new cr.Provider(this, 'SetupProvider', {
      onEventHandler: fn,
      logGroup: new logs.LogGroup(this, 'SetupProviderLogs', {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: this.encryptionKey,
      }),
    });
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The custom-resource framework's own function logs with the basic execution role; it only relays to the setup function.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'The framework invokes every version of the setup function, and nothing else.',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          "The custom-resource framework picks its function's runtime; it only relays to the setup function.",
      },
    );
    const resource = new CustomResource(this, 'Setup', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AiotInfluxSetup',
      properties: {
        Url: this.url,
        Organization: organization,
        AdminSecretArn: this.adminSecret.secretArn,
        WriteTokenSecretArn: this.writeTokenSecret.secretArn,
        ReadTokenSecretArn: this.readTokenSecret.secretArn,
        Description: `aiot-pipeline ${Stack.of(this).stackName}`,
        TokenRotation: tokenRotation,
        // Only when set, so that stacks without it keep their setup resource unchanged.
        ...(allowInstanceReplacement ? { AllowInstanceReplacement: 'true' } : {}),
        Buckets: [...this.buckets.values()].map((b) => ({
          name: b.name,
          retentionSeconds: b.retention.toSeconds(),
        })),
      },
    });
    resource.node.addDependency(this.instance);
    // Its Delete reads the token secrets through the Secrets Manager endpoint: deleted after it.
    resource.node.addDependency(...this.interfaceEndpoints);
    return resource;
  }
}
