/**
 * What carrying readings from devices to the store costs a month, line by line, from unit prices.
 * Fixed costs (the InfluxDB instance, VPC endpoints, the SageMaker endpoint) do not depend on how
 * readings travel and are left out: the model compares ways of carrying the same readings.
 */

/** A price per million units, with tiers by monthly volume (the last tier is open-ended). */
export interface TieredPrice {
  readonly tiers: readonly { readonly upToMillions: number | null; readonly usdPerMillion: number }[];
}

export interface UnitPrices {
  /** IoT Core messages through the broker, metered in 5 KB units. */
  readonly iotMessaging: TieredPrice;
  /** IoT Core connection minutes. */
  readonly iotConnectivityPerMillionMinutes: number;
  /** Rules triggered and actions executed, each metered in 5 KB units. */
  readonly iotRulesTriggeredPerMillion: number;
  readonly iotActionsExecutedPerMillion: number;
  /** SQS standard requests, each 64 KB chunk of a payload one request. */
  readonly sqsRequestsPerMillion: number;
  readonly lambdaRequestsPerMillion: number;
  /** Lambda on Arm. */
  readonly lambdaGbSecond: number;
  /** Timestream for LiveAnalytics writes, metered in 1 KB units per request. */
  readonly timestreamWritesPerMillionKb: number;
  /** Kinesis Data Streams provisioned: shard hours and 25 KB PUT payload units. */
  readonly kinesisShardHour: number;
  readonly kinesisPutUnitsPerMillion: number;
}

export type TransportDesign =
  | {
      readonly kind: 'naive';
      /** Lambda time per message. */
      readonly lambdaMsPerMessage: number;
      readonly lambdaMemoryMb: number;
    }
  | {
      readonly kind: 'queued';
      /** Readings packed into one message (1: one reading per message). */
      readonly readingsPerMessage: number;
      readonly queue: 'sqs' | 'kinesis';
      /** Messages per Lambda invocation. */
      readonly batchSize: number;
      readonly lambdaMsPerInvocation: number;
      readonly lambdaMsPerReading: number;
      readonly lambdaMemoryMb: number;
    };

export interface Fleet {
  readonly devices: number;
  /** Readings per second per device. */
  readonly rate: number;
  /** Bytes of one reading as a message on its own. */
  readonly readingBytes: number;
  /** Bytes a reading adds to a packed message (no envelope of its own). */
  readonly packedReadingBytes: number;
  /** Bytes of one reading as a store record (dimensions shared per request). */
  readonly storedReadingBytes: number;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usdPerMonth: number;
}

export const SECONDS_PER_MONTH = 30 * 24 * 3600;
const IOT_METER_BYTES = 5 * 1024;
const SQS_CHUNK_BYTES = 64 * 1024;
const KINESIS_PUT_UNIT_BYTES = 25 * 1024;
/** A Kinesis shard takes 1 MB/s or 1,000 records/s of writes. */
const KINESIS_SHARD_BYTES_PER_SECOND = 1024 * 1024;
const KINESIS_SHARD_RECORDS_PER_SECOND = 1000;
/** SQS hands Lambda at most 10 messages per receive; a delete batch takes as many. */
const SQS_MESSAGES_PER_RECEIVE = 10;

/** The cost of `millions` units at tiered prices. */
export function tieredCost(price: TieredPrice, millions: number): number {
  let left = millions;
  let floor = 0;
  let usd = 0;
  for (const tier of price.tiers) {
    const span = tier.upToMillions === null ? left : Math.min(left, tier.upToMillions - floor);
    usd += span * tier.usdPerMillion;
    left -= span;
    if (tier.upToMillions !== null) floor = tier.upToMillions;
    if (left <= 0) break;
  }
  return usd;
}

const meter = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/** A line of the bill: `quantity` units at `usdPerUnit` each. */
const line = (item: string, quantity: number, unit: string, usdPerUnit: number): CostLine => ({
  item,
  quantity,
  unit,
  usdPerMonth: quantity * usdPerUnit,
});

/** The monthly bill of one design for a fleet, line by line. */
export function transportCost(fleet: Fleet, design: TransportDesign, prices: UnitPrices): CostLine[] {
  if (!(fleet.devices > 0) || !(fleet.rate > 0)) {
    throw new Error(`devices and rate must be above 0, got ${fleet.devices} and ${fleet.rate}`);
  }
  const readings = fleet.devices * fleet.rate * SECONDS_PER_MONTH;
  const connectivity = line(
    'IoT Core connectivity',
    (fleet.devices * (SECONDS_PER_MONTH / 60)) / 1e6,
    'M connection-minutes',
    prices.iotConnectivityPerMillionMinutes,
  );
  if (design.kind === 'naive') return [connectivity, ...naiveLines(fleet, design, prices, readings)];

  const perMessage = Math.max(1, Math.floor(design.readingsPerMessage));
  const messageBytes =
    perMessage === 1 ? fleet.readingBytes : fleet.readingBytes + (perMessage - 1) * fleet.packedReadingBytes;
  const messages = readings / perMessage;
  const invocations = messages / design.batchSize;
  const gbSeconds =
    invocations *
    ((design.lambdaMsPerInvocation + design.lambdaMsPerReading * design.batchSize * perMessage) / 1000) *
    (design.lambdaMemoryMb / 1024);
  return [
    connectivity,
    // Basic Ingest: no broker messaging charge, only the rule and its action, in 5 KB units.
    ...ruleLines(prices, (messages * meter(messageBytes, IOT_METER_BYTES)) / 1e6),
    ...(design.queue === 'sqs'
      ? sqsLines(prices, messages, messageBytes)
      : kinesisLines(prices, messages, messageBytes)),
    ...lambdaLines(prices, invocations, gbSeconds),
    // Stored readings share their dimensions per request: what a reading adds is its measures.
    writesLine(prices, (readings * (fleet.storedReadingBytes / 1024)) / 1e6),
  ];
}

/** Every reading: a broker message, a rule and its Lambda action, an invocation, a 1 KB write. */
function naiveLines(
  fleet: Fleet,
  design: Extract<TransportDesign, { kind: 'naive' }>,
  prices: UnitPrices,
  readings: number,
): CostLine[] {
  const units = (readings * meter(fleet.readingBytes, IOT_METER_BYTES)) / 1e6;
  const gbSeconds = readings * (design.lambdaMsPerMessage / 1000) * (design.lambdaMemoryMb / 1024);
  return [
    {
      item: 'IoT Core messaging',
      quantity: units,
      unit: 'M messages',
      usdPerMonth: tieredCost(prices.iotMessaging, units),
    },
    ...ruleLines(prices, units),
    ...lambdaLines(prices, readings, gbSeconds),
    writesLine(prices, (readings * meter(fleet.readingBytes, 1024)) / 1e6),
  ];
}

const ruleLines = (prices: UnitPrices, units: number) => [
  line('IoT rules triggered', units, 'M', prices.iotRulesTriggeredPerMillion),
  line('IoT rule actions', units, 'M', prices.iotActionsExecutedPerMillion),
];

const lambdaLines = (prices: UnitPrices, invocations: number, gbSeconds: number) => [
  line('Lambda requests', invocations / 1e6, 'M invocations', prices.lambdaRequestsPerMillion),
  line('Lambda duration', gbSeconds / 1e6, 'M GB-s', prices.lambdaGbSecond * 1e6),
];

const writesLine = (prices: UnitPrices, millionKb: number) =>
  line('Timestream writes', millionKb, 'M KB written', prices.timestreamWritesPerMillionKb);

/** Each receive brings at most 10 messages and each delete batch clears as many. */
function sqsLines(prices: UnitPrices, messages: number, messageBytes: number): CostLine[] {
  return [
    line(
      'SQS sends',
      (messages * meter(messageBytes, SQS_CHUNK_BYTES)) / 1e6,
      'M requests',
      prices.sqsRequestsPerMillion,
    ),
    line(
      'SQS receives and deletes',
      (2 * messages) / SQS_MESSAGES_PER_RECEIVE / 1e6,
      'M requests',
      prices.sqsRequestsPerMillion,
    ),
  ];
}

/** Enough shards for the bytes and the records per second, and the PUT units of each message. */
function kinesisLines(prices: UnitPrices, messages: number, messageBytes: number): CostLine[] {
  const messagesPerSecond = messages / SECONDS_PER_MONTH;
  const shards = Math.max(
    1,
    Math.ceil((messagesPerSecond * messageBytes) / KINESIS_SHARD_BYTES_PER_SECOND),
    Math.ceil(messagesPerSecond / KINESIS_SHARD_RECORDS_PER_SECOND),
  );
  return [
    line('Kinesis shard hours', shards * (SECONDS_PER_MONTH / 3600), 'shard-hours', prices.kinesisShardHour),
    line(
      'Kinesis PUT units',
      (messages * meter(messageBytes, KINESIS_PUT_UNIT_BYTES)) / 1e6,
      'M 25 KB units',
      prices.kinesisPutUnitsPerMillion,
    ),
  ];
}

export const totalUsd = (lines: readonly CostLine[]) =>
  lines.reduce((sum, line) => sum + line.usdPerMonth, 0);
