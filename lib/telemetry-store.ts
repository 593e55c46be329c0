import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';

/** The stores a stack can keep readings in (`-c store=`); the functions read it as TELEMETRY_STORE. */
export const TELEMETRY_STORE_KINDS = ['influxdb', 'liveanalytics'] as const;
export type TelemetryStoreKind = (typeof TELEMETRY_STORE_KINDS)[number];

/** Where a function must run to reach the store: in its VPC, in a group the store admits. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

/** One use case's readings and scores, as the functions that write and read them see it. */
export interface UseCaseTelemetry {
  readonly kind: TelemetryStoreKind;
  /** How far back a reading may still be written: the store's retention. */
  readonly maxRecordAge: Duration;
  /** TELEMETRY_STORE and where the use case's data lives, for its ingest and replay functions. */
  readonly writerEnvironment: Readonly<Record<string, string>>;
  /** @default - the function runs outside any VPC */
  readonly network?: FunctionNetwork;
  /** Write readings and scores; with `readBack`, also read a device's readings (calibration). */
  grantWrite(grantee: iam.IGrantable, options?: { readonly readBack?: boolean }): void;
  /** What the stack output says about where the readings are. */
  readonly description: string;
}

/** Every use case's readings and scores, for the functions that read across use cases (drift, console). */
export interface TelemetryReads {
  readonly kind: TelemetryStoreKind;
  readonly readerEnvironment: Readonly<Record<string, string>>;
  /** @default - the function runs outside any VPC */
  readonly network?: FunctionNetwork;
  grantRead(grantee: iam.IGrantable): void;
  /**
   * Series derived from the readings that a function writes back beside them (the KPIs' M&V, for
   * the dashboards): its environment and grant. @default - none: the store keeps no derived series
   */
  readonly derivedSeries?: {
    readonly environment: Readonly<Record<string, string>>;
    grantWrite(grantee: iam.IGrantable): void;
  };
  /**
   * Lets the readers in `network` call an AWS service beyond those it reaches already (an
   * interface endpoint named `id`, made once). @default - nothing to do outside a VPC
   */
  reachService?(id: string, service: ec2.InterfaceVpcEndpointAwsService): void;
}
