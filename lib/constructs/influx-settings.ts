import { Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { influxStorageGib } from './influx-disk.ts';
import type { InfluxTelemetryStoreProps } from './influx-telemetry-store.ts';

/** InfluxDB bucket names: what a use-case id already is (lower-case letters, digits, hyphens). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const INSTANCE_TYPE = /^db\.influx\.[a-z0-9]+$/;

/** The store's settings with their defaults, each checked eagerly with the bad value in the message. */
export function validate(scope: Construct, props: InfluxTelemetryStoreProps) {
  if (props.useCases.length === 0)
    throw new Error('InfluxTelemetryStore needs at least one use case, got none');
  for (const { id, retention } of props.useCases) {
    if (!BUCKET_NAME.test(id)) throw new Error(`use case id "${id}" is not an InfluxDB bucket name`);
    if (retention.toSeconds() < 3600)
      throw new Error(`retention of ${id} must be at least 1 hour, got ${retention.toHumanString()}`);
  }
  const instanceType = props.instanceType ?? 'db.influx.medium';
  if (!Token.isUnresolved(instanceType) && !INSTANCE_TYPE.test(instanceType))
    throw new Error(
      `instanceType must be a Timestream for InfluxDB type such as db.influx.medium, got "${instanceType}"`,
    );
  const allocatedStorage = influxStorageGib(scope, props.useCases, props.allocatedStorage);
  return {
    instanceType,
    allocatedStorage,
    deploymentType: props.deploymentType ?? 'SINGLE_AZ',
    organization: props.organization ?? 'aiot',
  };
}
