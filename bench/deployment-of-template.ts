import { Template } from 'aws-cdk-lib/assertions';
import type { Deployment } from '../core/cost/fixed-cost.ts';
import { planInfluxDisk } from '../core/stores/influx-disk.ts';
import { DEFAULT_DEVICES_PER_USE_CASE } from '../lib/constructs/influx-disk.ts';
import { pipelineStack, testApp } from '../test/support/cdk.ts';
import { loadCatalog } from '../usecases/catalog.ts';

// Read once: the bill is computed for many fleet sizes.
const { useCases } = loadCatalog();

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * What the default deployment provisions by the hour, read from its synthesized template (every
 * use case with a model trained, as in production): the InfluxDB instance type, the interface
 * endpoints and the AZs they sit in, each endpoint's instance type and minimum count.
 */
export function deploymentTemplate(): Omit<Deployment, 'influx'> & { readonly influxInstanceType?: string } {
  const trained = Object.fromEntries(
    useCases.filter((u) => u.model).map((u) => [u.id, `models/${u.id}/job/output/model.tar.gz`]),
  );
  const resources = Object.values(
    (
      Template.fromStack(pipelineStack(testApp(), { modelArtifacts: trained })).toJSON() as {
        Resources: Record<string, Resource>;
      }
    ).Resources,
  );
  const of = (type: string) => resources.filter((r) => r.Type === type).map((r) => r.Properties ?? {});
  const influx = of('AWS::Timestream::InfluxDBInstance')[0];
  const interfaceEndpointAzs = of('AWS::EC2::VPCEndpoint')
    .filter((p) => p.VpcEndpointType === 'Interface')
    .reduce((sum, p) => sum + (Array.isArray(p.SubnetIds) ? p.SubnetIds.length : 0), 0);
  const endpoints = of('Custom::AiotModelEndpoint').map((p) => ({
    useCase: String(p.UseCase),
    instanceType: String(p.InstanceType),
    minInstances: Number(p.InitialInstanceCount),
  }));
  return {
    ...(influx ? { influxInstanceType: String(influx.DbInstanceType) } : {}),
    interfaceEndpointAzs,
    endpoints,
  };
}

/** The InfluxDB disk a fleet of `devices` (shared evenly by the use cases) needs, at `rate` a device-second. */
export function influxDiskFor(devices: number, rate: number) {
  return planInfluxDisk(
    useCases.map((u) => ({
      useCase: u.id,
      devices: devices / useCases.length,
      readingsPerSecond: rate,
      retentionDays: u.storage.magneticRetentionDays,
    })),
  );
}

/** Devices the deployed disk is sized for by default, all use cases together. */
export function defaultSizedDevices(): number {
  return DEFAULT_DEVICES_PER_USE_CASE * useCases.length;
}
