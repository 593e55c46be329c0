import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  DISK_ALARM_PERCENT,
  MAX_INFLUX_GIB,
  MIN_INFLUX_GIB,
  planInfluxDisk,
} from '../../core/stores/influx-disk.ts';

/** Devices per use case the disk is sized for when nobody says (a plant's first lines, not a pilot). */
export const DEFAULT_DEVICES_PER_USE_CASE = 100;

/** A use case's readings into InfluxDB: its retention, and the fleet the disk is sized for. */
export interface InfluxUseCase {
  readonly id: string;
  readonly retention: Duration;
  /** Devices the disk must hold the readings of. @default 100 */
  readonly devices?: number;
  /** Readings per device per second. @default 1 */
  readonly readingsPerSecond?: number;
}

/**
 * The instance's storage in GiB: the caller's, checked against what the use cases need (a
 * warning when it is less), or what they need (core/stores/influx-disk.ts), refused when no
 * instance holds it.
 */
export function influxStorageGib(
  scope: Construct,
  useCases: readonly InfluxUseCase[],
  allocatedStorage?: number,
): number {
  const plan = planInfluxDisk(
    useCases.map((u) => ({
      useCase: u.id,
      devices: u.devices ?? DEFAULT_DEVICES_PER_USE_CASE,
      readingsPerSecond: u.readingsPerSecond ?? 1,
      retentionDays: u.retention.toDays({ integral: false }),
    })),
  );
  if (allocatedStorage === undefined) {
    if (plan.problem) throw new Error(plan.problem);
    return plan.allocatedGib;
  }
  if (
    !Token.isUnresolved(allocatedStorage) &&
    (!Number.isInteger(allocatedStorage) ||
      allocatedStorage < MIN_INFLUX_GIB ||
      allocatedStorage > MAX_INFLUX_GIB)
  ) {
    throw new Error(
      `allocatedStorage must be a whole number of GiB from ${MIN_INFLUX_GIB} to ${MAX_INFLUX_GIB} (the most an update accepts), got ${allocatedStorage}`,
    );
  }
  if (!Token.isUnresolved(allocatedStorage) && allocatedStorage < plan.allocatedGib) {
    Annotations.of(scope).addWarningV2(
      '@aiot/influx:diskBelowPlan',
      `allocatedStorage ${allocatedStorage} GiB is below the ${plan.allocatedGib} GiB the use cases' retention needs for their fleet; the disk alarm at ${DISK_ALARM_PERCENT} % says when it fills`,
    );
  }
  return allocatedStorage;
}

/**
 * The alarm before the disk is full: InfluxDB stops taking writes when it is, and storage only
 * grows by an update that takes a while. CloudWatch's `AWS/TimestreamInfluxDB` `DiskUtilization`
 * of the instance, above 80 % for 15 minutes.
 */
export class InfluxDiskAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: { readonly instanceName: string }) {
    super(scope, id);
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `The InfluxDB disk is over ${DISK_ALARM_PERCENT} % full: raise allocatedStorage (-c fleetDevices, docs/operations.md) before it stops taking readings`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/TimestreamInfluxDB',
        metricName: 'DiskUtilization',
        dimensionsMap: { DbInstanceName: props.instanceName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      threshold: DISK_ALARM_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // No data is no news: the instance publishes the metric while it runs.
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
  }
}
