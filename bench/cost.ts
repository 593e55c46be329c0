/**
 * The monthly cost of carrying a fleet's readings to the store, this design against a naive one
 * (a broker publish, a Lambda invocation and a store write per reading), from the unit prices in
 * bench/aws-prices.json. Sizes come from the pump contract's example reading; the Lambda's billed
 * time per invocation and reading from bench:lambda (bench/measured/ingest-lambda.json), the
 * endpoint's windows a second from bench:inference (bench/measured/inference.json).
 *
 *   npm run cost -- --devices 1000 --rate 1
 *   npm run cost -- --devices 10000 --rate 1 --pack-seconds 10
 *
 * Then what the deployment costs besides transport (from its synthesized template: the InfluxDB
 * instance and its disk sized for the fleet, interface endpoints, SageMaker instances, CloudTrail
 * data events on the alert table), and the whole bill at 1,000, 10,000 and 100,000 devices.
 *
 * The last line is one JSON object: devices, rate, naiveUsdPerMonth, usdPerMonth (transport),
 * ratio (transport, of naive), fixedUsdPerMonth (besides transport), usdPerDeviceMonth (all of
 * it), and unpriced (lines whose price bench/aws-prices.json does not have).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { z } from 'zod';
import { inferenceFiguresSchema, lambdaFiguresSchema, readFigures } from './measured-figures.ts';
import {
  totalUsd,
  transportCost,
  type CostLine,
  type Fleet,
  type TransportDesign,
  type UnitPrices,
} from '../core/cost/transport-cost.ts';
import { IOT_METERING_UNIT_BYTES, PackBuilder } from '../core/contracts/pack.ts';
import { fixedCost, type FixedPrices } from '../core/cost/fixed-cost.ts';
import { DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_PACK_WAIT_MS } from '../edge/agent.ts';
import { defaultSizedDevices, deploymentTemplate, influxDiskFor } from './deployment-of-template.ts';
import { DEFAULT_CPU_UTILIZATION_PERCENT } from '../lib/constructs/inference-endpoint.ts';
import { pumpTelemetryV2 } from '../test/support/contracts.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1' },
    // What the edge agent puts in one message; default: what it packs with its default settings.
    'readings-per-message': { type: 'string' },
    'batch-size': { type: 'string', default: '100' },
    // How long a packing agent may hold a reading to fill a message: the latency packing costs.
    'pack-seconds': { type: 'string', default: String(DEFAULT_PACK_WAIT_MS / 1000) },
    prices: { type: 'string', default: path.join(import.meta.dirname, 'aws-prices.json') },
    // What one model server process scores a second, as bench:inference --record measured it.
    'inference-figures': {
      type: 'string',
      default: path.join(import.meta.dirname, 'measured', 'inference.json'),
    },
    // What an ingest invocation is billed for, as bench:lambda --record measured it.
    'lambda-figures': {
      type: 'string',
      default: path.join(import.meta.dirname, 'measured', 'ingest-lambda.json'),
    },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a number above 0, got "${text}"`);
  return value;
}

const usd = z.object({ usd: z.number().nonnegative(), source: z.string() });
const pricesFile = z.object({
  region: z.string(),
  compiled: z.string(),
  prices: z.object({
    iotMessaging: z.object({
      tiers: z.array(z.object({ upToMillions: z.number().nullable(), usdPerMillion: z.number() })).min(1),
      source: z.string(),
    }),
    iotConnectivityPerMillionMinutes: usd,
    iotRulesTriggeredPerMillion: usd,
    iotActionsExecutedPerMillion: usd,
    sqsRequestsPerMillion: usd,
    lambdaRequestsPerMillion: usd,
    lambdaGbSecond: usd,
    timestreamWritesPerMillionKb: usd,
    kinesisShardHour: usd,
    kinesisPutUnitsPerMillion: usd,
    influxInstanceMonth: z.object({ usd: z.number().nonnegative().nullable(), source: z.string() }),
    influxStorageGibMonth: z.object({ usd: z.number().nonnegative().nullable(), source: z.string() }),
    interfaceEndpointAzHour: usd,
    sagemakerInstanceHour: z.object({
      usd: z.record(z.string(), z.number().nonnegative()),
      source: z.string(),
    }),
    cloudTrailDataEventsPer100k: usd,
    dynamodbReadUnitsPerMillion: usd,
    dynamodbWriteUnitsPerMillion: usd,
  }),
});

const file = readFigures(values.prices, pricesFile);
const inference = readFigures(values['inference-figures'], inferenceFiguresSchema);
const lambda = readFigures(values['lambda-figures'], lambdaFiguresSchema);
// The endpoint scales to keep its instances at this share of one vCPU, the server's one process.
const windowsPerInstanceSecond = (inference.windowsPerCpuSecond * DEFAULT_CPU_UTILIZATION_PERCENT) / 100;
const p = file.prices;
const prices: UnitPrices = {
  iotMessaging: { tiers: p.iotMessaging.tiers },
  iotConnectivityPerMillionMinutes: p.iotConnectivityPerMillionMinutes.usd,
  iotRulesTriggeredPerMillion: p.iotRulesTriggeredPerMillion.usd,
  iotActionsExecutedPerMillion: p.iotActionsExecutedPerMillion.usd,
  sqsRequestsPerMillion: p.sqsRequestsPerMillion.usd,
  lambdaRequestsPerMillion: p.lambdaRequestsPerMillion.usd,
  lambdaGbSecond: p.lambdaGbSecond.usd,
  timestreamWritesPerMillionKb: p.timestreamWritesPerMillionKb.usd,
  kinesisShardHour: p.kinesisShardHour.usd,
  kinesisPutUnitsPerMillion: p.kinesisPutUnitsPerMillion.usd,
};

// Sizes of the pump contract's example reading: alone (the envelope), packed (time, seq and
// measures only), and stored (measure names and 8-byte values; dimensions travel once per call).
const example = pumpTelemetryV2.example();
const readingBytes = Buffer.byteLength(JSON.stringify(example));
const packedReadingBytes = Buffer.byteLength(
  JSON.stringify({ timestamp: example.timestamp, seq: example.seq, measures: example.measures }),
);
const columns = Object.values(pumpTelemetryV2.measures).map((m) => m.column);
const storedReadingBytes = [...columns, 'seq', 'origin'].reduce((sum, name) => sum + name.length + 8, 8);

const fleet: Fleet = {
  devices: positive('devices', values.devices),
  rate: positive('rate', values.rate),
  readingBytes,
  packedReadingBytes,
  storedReadingBytes,
};
// Lambda time, measured (bench/lambda-cost.ts): the deployed ingest function's billed duration at
// its memory size, per invocation and per reading. The naive design is the same function invoked
// for each reading alone.
const naive: TransportDesign = {
  kind: 'naive',
  lambdaMsPerMessage: lambda.billedMsPerInvocation + lambda.billedMsPerReading,
  lambdaMemoryMb: lambda.memoryMb,
};
const design = (readingsPerMessage: number, queue: 'sqs' | 'kinesis'): TransportDesign => ({
  kind: 'queued',
  readingsPerMessage,
  queue,
  batchSize: positive('batch-size', values['batch-size']),
  lambdaMsPerInvocation: lambda.billedMsPerInvocation,
  lambdaMsPerReading: lambda.billedMsPerReading,
  lambdaMemoryMb: lambda.memoryMb,
});
// The most readings one 5 KB IoT metering unit holds, as the edge agent's own packer fills it,
// and what a device reads while a reading may wait.
const packer = new PackBuilder(IOT_METERING_UNIT_BYTES);
for (let seq = 0; packer.add(JSON.stringify({ ...example, seq })); seq += 1);
const fits = packer.count;
const packSeconds = positive('pack-seconds', values['pack-seconds']);
const packable = Math.max(1, Math.min(fits, Math.floor(fleet.rate * packSeconds)));
const perMessage =
  values['readings-per-message'] === undefined
    ? packable
    : Math.floor(positive('readings-per-message', values['readings-per-message']));

const designs: [string, TransportDesign][] = [
  ['naive: publish, Lambda and write per reading', naive],
  [
    `this design: Basic Ingest, SQS, batches, ${perMessage} per message (packed ≤ ${packSeconds} s)`,
    design(perMessage, 'sqs'),
  ],
  ['one reading per message (--pack-bytes 0), SQS', design(1, 'sqs')],
  [`packed ${packable} per message (≤ ${packSeconds} s wait), Kinesis`, design(packable, 'kinesis')],
  [`packed ${fits} per message (a full 5 KB, as a replay sends), SQS`, design(fits, 'sqs')],
];
const bills = designs.map(([name, d]) => [name, transportCost(fleet, d, prices)] as const);

const money = (n: number) =>
  `$${n.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`;
console.log(
  `${fleet.devices} devices × ${fleet.rate} readings/s, ${file.region} prices compiled ${file.compiled}; ` +
    `a reading is ${readingBytes} B alone, ${packedReadingBytes} B packed, ${storedReadingBytes} B stored`,
);
for (const [name, lines] of bills) {
  const table = new Table({ head: ['item', 'quantity', 'unit', 'USD/month', 'share'] });
  const total = totalUsd(lines);
  for (const line of lines as readonly CostLine[]) {
    table.push([
      line.item,
      line.quantity.toLocaleString('en-US', { maximumFractionDigits: 2 }),
      line.unit,
      money(line.usdPerMonth),
      `${((100 * line.usdPerMonth) / total).toFixed(1)}%`,
    ]);
  }
  console.log(`\n${name}: ${money(total)} a month`);
  console.log(table.toString());
}
const naiveUsd = totalUsd(bills[0]?.[1] ?? []);
const summary = new Table({ head: ['design', 'USD/month', 'of naive'] });
for (const [name, lines] of bills)
  summary.push([name, money(totalUsd(lines)), (totalUsd(lines) / naiveUsd).toFixed(3)]);
console.log(`\n${summary.toString()}`);
const usdPerMonth = totalUsd(bills[1]?.[1] ?? []);
const round = (n: number) => Math.round(n * 100) / 100;

// The whole bill: transport plus what runs by the hour and what grows with the fleet besides.
const fixedPrices: FixedPrices = {
  influxInstanceMonth: p.influxInstanceMonth.usd,
  influxStorageGibMonth: p.influxStorageGibMonth.usd,
  interfaceEndpointAzHour: p.interfaceEndpointAzHour.usd,
  sagemakerInstanceHour: p.sagemakerInstanceHour.usd,
  cloudTrailDataEventsPer100k: p.cloudTrailDataEventsPer100k.usd,
  dynamodbReadUnitsPerMillion: p.dynamodbReadUnitsPerMillion.usd,
  dynamodbWriteUnitsPerMillion: p.dynamodbWriteUnitsPerMillion.usd,
};
const template = deploymentTemplate();
const billFor = (devices: number) => {
  const sized = { ...fleet, devices };
  // With the InfluxDB store, writes are paid by the instance, not per KB as LiveAnalytics bills them.
  const storeWrites = (lines: readonly CostLine[]) =>
    totalUsd(lines.filter((l) => !(template.influxInstanceType && l.item === 'Timestream writes')));
  const transport = storeWrites(transportCost(sized, design(perMessage, 'sqs'), prices));
  const naiveTransport = storeWrites(transportCost(sized, naive, prices));
  const disk = influxDiskFor(devices, fleet.rate);
  const fixed = fixedCost(
    {
      ...(template.influxInstanceType
        ? { influx: { instanceType: template.influxInstanceType, storageGib: disk.allocatedGib } }
        : {}),
      interfaceEndpointAzs: template.interfaceEndpointAzs,
      endpoints: template.endpoints,
    },
    {
      devices,
      healthReportSeconds: DEFAULT_HEALTH_INTERVAL_MS / 1000,
      messagesPerDeviceMonth: (fleet.rate * 730 * 3600) / perMessage,
      readUnitsPerMessage: lambda.dynamodbReadUnitsPerMessage,
      writesPerMessage: lambda.dynamodbWritesPerMessage,
      writeUnitsPerMessage: lambda.dynamodbWriteKbPerMessage,
    },
    fixedPrices,
    // The fleet is pumps: one window a telemetry message, on the pump endpoint.
    {
      useCase: 'pump-maintenance',
      windowsPerSecond: (devices * fleet.rate) / perMessage,
      windowsPerInstanceSecond,
    },
  );
  const fixedUsd = totalUsd(fixed.lines);
  const inferenceUsd = totalUsd(
    fixed.lines.filter((l) => l.item.startsWith('SageMaker endpoint pump-maintenance')),
  );
  return { transport, naiveTransport, disk, fixed, fixedUsd, inferenceUsd, total: transport + fixedUsd };
};
const unpricedText = (bill: ReturnType<typeof billFor>) =>
  bill.fixed.unpriced.map((u) => `${u.item} ${Math.round(u.quantity).toLocaleString('en-US')} ${u.unit}`);

const here = billFor(fleet.devices);
const fixedTable = new Table({ head: ['besides transport', 'quantity', 'unit', 'USD/month'] });
for (const line of here.fixed.lines)
  fixedTable.push([
    line.item,
    line.quantity.toLocaleString('en-US', { maximumFractionDigits: 0 }),
    line.unit,
    money(line.usdPerMonth),
  ]);
for (const line of here.fixed.unpriced)
  fixedTable.push([
    line.item,
    line.quantity.toLocaleString('en-US', { maximumFractionDigits: 0 }),
    line.unit,
    'not priced',
  ]);
console.log(
  `\nbesides transport, ${fleet.devices} devices (template: every use case with a trained model; disk sized for this fleet):`,
);
console.log(fixedTable.toString());

const fleets = new Table({
  head: [
    'devices',
    'transport (InfluxDB store)',
    'besides',
    'total USD/month',
    'USD per device-month',
    'total of naive',
    'InfluxDB disk',
    'inference USD per device-month',
  ],
});
for (const devices of [1_000, 10_000, 100_000]) {
  const bill = billFor(devices);
  fleets.push([
    devices.toLocaleString('en-US'),
    money(bill.transport),
    money(bill.fixedUsd),
    money(bill.total),
    money(bill.total / devices),
    ((bill.transport + bill.fixedUsd) / (bill.naiveTransport + bill.fixedUsd)).toFixed(3),
    `${bill.disk.allocatedGib.toLocaleString('en-US')} GiB${bill.disk.problem ? ' (more than one instance holds)' : ''}`,
    `$${(bill.inferenceUsd / devices).toFixed(4)}`,
  ]);
}
console.log(
  `\nthe whole bill by fleet size (${fleet.rate} reading/s a device; besides-transport lines without a price are left out: ${unpricedText(here).join(', ') || 'none'} at ${fleet.devices} devices):`,
);
console.log(fleets.toString());
// The largest fleet one instance holds at this rate, in hundreds of devices.
let holds = 0;
while (!influxDiskFor(holds + 100, fleet.rate).problem) holds += 100;
console.log(
  `one InfluxDB instance holds up to ${holds.toLocaleString('en-US')} devices at ${fleet.rate} reading/s with the manifests' retention; ` +
    `the default deployment sizes its disk for ${defaultSizedDevices()} (-c fleetDevices per use case); beyond one instance, ` +
    'shorten retention, send fewer readings or split the fleet across stacks (core/stores/influx-disk.ts)',
);
// Scoring: the ingest function sends every device of a batch in one call of up to 100 windows.
const callsPerInvocation = Math.ceil(
  Math.min(fleet.devices, positive('batch-size', values['batch-size'])) / 100,
);
const invocationsPer1000 =
  (1000 / (positive('batch-size', values['batch-size']) * perMessage)) * callsPerInvocation;
console.log(
  `inference: ${invocationsPer1000.toFixed(1)} endpoint calls per 1,000 readings when batches fill (one per device and batch before: ${(1000 / perMessage).toFixed(0)}); ` +
    `an instance serves ${Math.round(windowsPerInstanceSecond)} windows/s at ${DEFAULT_CPU_UTILIZATION_PERCENT}% of one vCPU, from ${inference.windowsPerCpuSecond} a second of the server process's CPU (all its threads) ` +
    `for windows of ${inference.historyReadings} readings of history + ${inference.newReadingsPerWindow} new${inference.newReadingsPerWindow === perMessage ? '' : ` (a message here carries ${perMessage}: the figure is approximate)`}, measured by \`${inference.measuredBy}\` on ${inference.date} (${inference.machine}); ` +
    `USD ${(here.inferenceUsd / fleet.devices).toFixed(4)} per device-month at ${fleet.devices.toLocaleString('en-US')} devices`,
);
console.log(
  `Lambda: the ingest function at ${lambda.memoryMb} MB is billed ${lambda.billedMsPerInvocation.toFixed(1)} ms an invocation and ${lambda.billedMsPerReading.toFixed(2)} ms a reading ` +
    `(${lambda.readingsPerMessage} readings a message), measured by \`${lambda.measuredBy}\` on ${lambda.date} (${lambda.machine})`,
);
console.log(
  JSON.stringify({
    devices: fleet.devices,
    rate: fleet.rate,
    naiveUsdPerMonth: round(naiveUsd),
    usdPerMonth: round(usdPerMonth),
    ratio: Math.round((usdPerMonth / naiveUsd) * 1000) / 1000,
    fixedUsdPerMonth: round(here.fixedUsd),
    usdPerDeviceMonth: Math.round((here.total / fleet.devices) * 10_000) / 10_000,
    endpointInvocationsPer1000Readings: Math.round(invocationsPer1000 * 100) / 100,
    inferenceUsdPerDeviceMonth: Math.round((here.inferenceUsd / fleet.devices) * 10_000) / 10_000,
    unpriced: unpricedText(here),
  }),
);
