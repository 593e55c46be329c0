import type { CostLine } from './transport-cost.ts';

/**
 * What the deployment costs besides carrying readings: what runs by the hour whatever the fleet
 * (the InfluxDB instance, interface endpoints, SageMaker instances), what grows with the fleet
 * without being transport (InfluxDB storage, CloudTrail data events on the alert table).
 */
const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** Unit prices; null where the project could not read the price (the line shows, unpriced). */
export interface FixedPrices {
  readonly influxInstanceMonth: number | null;
  readonly influxStorageGibMonth: number | null;
  readonly interfaceEndpointAzHour: number;
  /** By SageMaker instance type, USD an instance-hour. */
  readonly sagemakerInstanceHour: Readonly<Record<string, number>>;
  readonly cloudTrailDataEventsPer100k: number;
  /** DynamoDB on demand: a read unit is a strongly consistent read of up to 4 KB, a write unit 1 KB. */
  readonly dynamodbReadUnitsPerMillion: number;
  readonly dynamodbWriteUnitsPerMillion: number;
}

/** What the synthesized template provisions, and what the fleet makes of it. */
export interface Deployment {
  /** InfluxDB instances and their storage (none with LiveAnalytics). */
  readonly influx?: { readonly instanceType: string; readonly storageGib: number };
  /** Interface endpoints times the availability zones each sits in. */
  readonly interfaceEndpointAzs: number;
  /** Each use case's endpoint: its instance type and the instances it keeps at least. */
  readonly endpoints: readonly {
    readonly useCase: string;
    readonly instanceType: string;
    readonly minInstances: number;
  }[];
}

/**
 * The scoring load on one use case's endpoint: its devices' windows a second, and what one
 * instance serves at its CPU target (a measured figure: bench:inference). Its instances are as
 * many as the load needs, never fewer than the endpoint's minimum.
 */
export interface InferenceLoad {
  readonly useCase: string;
  readonly windowsPerSecond: number;
  readonly windowsPerInstanceSecond: number;
}

/**
 * What the fleet asks of the alert table (on demand, its writes recorded by CloudTrail): each
 * device's health report every `healthReportSeconds` (a put of under 1 KB), and what scoring a
 * telemetry message reads and writes there (device state, alert track), as bench:lambda measured
 * it per message.
 */
export interface AlertTableTraffic {
  readonly devices: number;
  readonly healthReportSeconds: number;
  /** Telemetry messages a device sends a month. */
  readonly messagesPerDeviceMonth: number;
  /** Read units a scored message uses (a strongly consistent read: one a 4 KB of the item). */
  readonly readUnitsPerMessage: number;
  /** Write calls a scored message makes (each a CloudTrail data event), and their KB (write units). */
  readonly writesPerMessage: number;
  readonly writeUnitsPerMessage: number;
}

/** A line with no price known here. */
export interface UnpricedLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
}

export interface FixedCost {
  readonly lines: readonly CostLine[];
  readonly unpriced: readonly UnpricedLine[];
}

export function fixedCost(
  deployment: Deployment,
  traffic: AlertTableTraffic,
  prices: FixedPrices,
  load?: InferenceLoad,
): FixedCost {
  if (load && !(load.windowsPerInstanceSecond > 0))
    throw new Error(`windowsPerInstanceSecond must be above 0, got ${load.windowsPerInstanceSecond}`);
  const lines: CostLine[] = [];
  const unpriced: UnpricedLine[] = [];
  const add = (item: string, quantity: number, unit: string, unitUsd: number | null) => {
    if (unitUsd === null) unpriced.push({ item, quantity, unit });
    else lines.push({ item, quantity, unit, usdPerMonth: quantity * unitUsd });
  };
  if (deployment.influx) {
    add(
      `InfluxDB instance (${deployment.influx.instanceType})`,
      1,
      'instance-months',
      prices.influxInstanceMonth,
    );
    add('InfluxDB storage', deployment.influx.storageGib, 'GiB-months', prices.influxStorageGibMonth);
  }
  add(
    'interface VPC endpoints',
    deployment.interfaceEndpointAzs * HOURS_PER_MONTH,
    'endpoint-AZ-hours',
    prices.interfaceEndpointAzHour,
  );
  for (const endpoint of deployment.endpoints) {
    const price = prices.sagemakerInstanceHour[endpoint.instanceType];
    if (price === undefined) {
      throw new Error(
        `no price for SageMaker ${endpoint.instanceType} (${endpoint.useCase}): add it to bench/aws-prices.json`,
      );
    }
    const needed =
      load?.useCase === endpoint.useCase
        ? Math.ceil(load.windowsPerSecond / load.windowsPerInstanceSecond)
        : 0;
    const instances = Math.max(endpoint.minInstances, needed);
    add(
      needed > 0
        ? `SageMaker endpoint ${endpoint.useCase} (${endpoint.instanceType} × ${instances} for ${Math.round(load?.windowsPerSecond ?? 0).toLocaleString('en-US')} windows/s)`
        : `SageMaker endpoint ${endpoint.useCase} (${endpoint.instanceType}, at least)`,
      instances * HOURS_PER_MONTH,
      'instance-hours',
      price,
    );
  }
  alertTableLines(traffic, prices, add);
  return { lines, unpriced };
}

/** The alert table's requests and the CloudTrail data events of its writes. */
function alertTableLines(
  traffic: AlertTableTraffic,
  prices: FixedPrices,
  add: (item: string, quantity: number, unit: string, unitUsd: number) => void,
): void {
  const healthReports = (traffic.devices * SECONDS_PER_MONTH) / traffic.healthReportSeconds;
  const messages = traffic.devices * traffic.messagesPerDeviceMonth;
  const perMillion = (usd: number) => usd / 1e6;
  add(
    'DynamoDB health report writes',
    healthReports,
    'write units',
    perMillion(prices.dynamodbWriteUnitsPerMillion),
  );
  add(
    `DynamoDB scoring reads (${traffic.readUnitsPerMessage} units a message)`,
    messages * traffic.readUnitsPerMessage,
    'read units',
    perMillion(prices.dynamodbReadUnitsPerMillion),
  );
  add(
    `DynamoDB scoring writes (${traffic.writeUnitsPerMessage} units a message)`,
    messages * traffic.writeUnitsPerMessage,
    'write units',
    perMillion(prices.dynamodbWriteUnitsPerMillion),
  );
  const event = prices.cloudTrailDataEventsPer100k / 100_000;
  add('CloudTrail data events: health reports', healthReports, 'events', event);
  add(
    `CloudTrail data events: scoring writes (${traffic.writesPerMessage} a message)`,
    messages * traffic.writesPerMessage,
    'events',
    event,
  );
}
