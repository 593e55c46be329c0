/**
 * What an invocation of the ingest function costs, measured: the deployed pump-maintenance ingest
 * function (InfluxDB store, trained model; environment and memory from the synthesized template)
 * runs in this process on SQS batches of a simulated fleet, with its AWS SDK clients unchanged
 * and every AWS service stood in for at the network edge in other processes (a real influxd;
 * dynalite; the model container's own scoring; bench/lambda-edge.ts). Requests are serialized,
 * signed and parsed as in Lambda, so marshalling counts; the stand-ins' own work does not.
 *
 *   npm run bench:lambda [-- --devices 100 --invocations 40 --sizes 1,10,100]
 *   npm run bench:lambda -- --record bench/measured/ingest-lambda.json   # the figures `npm run cost` uses
 *
 * The fleet first calibrates (every device's baselines, as commissioning does; reported apart),
 * then each batch size runs `--invocations` times on monitored devices. Per invocation: CPU time
 * of this process, wall time, and the billed duration at the template's memory size
 * (core/cost/lambda-duration.ts). A least-squares line over the monitored invocations splits it
 * into a cost per invocation and a cost per reading.
 *
 * The last line is one JSON object: devices, readingsPerMessage, memoryMb, cpuMsPerInvocation,
 * cpuMsPerReading, billedMsPerInvocation, billedMsPerReading, logBytesPerReading, and what a
 * message asks of the alert table: dynamodbReadsPerMessage, dynamodbReadUnitsPerMessage,
 * dynamodbWritesPerMessage, dynamodbWriteKbPerMessage.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
import { DEFAULT_PACK_WAIT_MS } from '../edge/agent.ts';
import { deployedFunction, deployedTemplate } from '../test/support/deployed-functions.ts';
import { onInfluxServer, startInfluxServer } from '../test/support/influxdb.ts';
import { CallCounter } from './lambda-calls.ts';
import { BenchFleet } from './lambda-fleet.ts';
import { callsTable, lambdaFigures, phaseTable, type Measured, type Phase } from './lambda-report.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    invocations: { type: 'string', default: '40' },
    sizes: { type: 'string', default: '1,10,100' },
    // The agent's default pack at a reading a second: what it holds for DEFAULT_PACK_WAIT_MS.
    'readings-per-message': { type: 'string', default: String(DEFAULT_PACK_WAIT_MS / 1000) },
    record: { type: 'string' },
  },
});

function wholeNumber(name: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`--${name} must be a whole number from 1 to ${max}, got "${text}"`);
  return value;
}
const devices = wholeNumber('devices', values.devices, 10_000);
const invocations = wholeNumber('invocations', values.invocations, 10_000);
const perMessage = wholeNumber('readings-per-message', values['readings-per-message'], 500);
// An SQS event source delivers at most 10,000 messages; ours is set to 100.
const sizes = [
  ...new Set(values.sizes.split(',').map((t) => Math.min(devices, wholeNumber('sizes', t, 10_000)))),
];
if (sizes.length < 2)
  throw new Error(
    `--sizes needs two batch sizes or more (up to --devices ${devices}) to tell an invocation's cost from a reading's, got "${values.sizes}"`,
  );

const DEPLOYMENT = 'InfluxDB, trained models';
const deployed = deployedFunction(DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function');
const template = deployedTemplate(DEPLOYMENT);
const env = deployed.env;
const tableName = env.ALERT_TABLE ?? '';
const tableProps = template.Resources[tableName]?.Properties;
if (!tableProps) throw new Error(`the template has no alert table "${tableName}"`);

process.stderr.write('starting influxd and the AWS stand-ins...\n');
const influx = await startInfluxServer();
await influx.createDatabase(env.INFLUX_BUCKET ?? '');
const edge = await startEdge().catch(async (error: unknown) => {
  await influx.stop();
  throw error;
});
// What the SDK and Powertools read from the environment is read as the function's clients are built.
Object.assign(process.env, onInfluxServer(env, influx), {
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL_DYNAMODB: edge.dynamodb,
  AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: edge.edge,
  AWS_ENDPOINT_URL_EVENTBRIDGE: edge.edge,
  AWS_ENDPOINT_URL_SQS: edge.edge,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: edge.edge,
  AWS_ENDPOINT_URL_S3: edge.edge,
});
const counter = new CallCounter();
const { createHandler, dependenciesFromEnv, scoringFromEnv } = await import('../lambdas/ingest/handler.ts');
const scoring = scoringFromEnv(process.env);
if (!scoring) throw new Error('the deployed ingest function does not score: no ENDPOINT_NAME');
// Which devices the function has scored against their baselines (a tap on the rows it writes).
const monitored = new Set<string>();
const write = scoring.inferences.writeInferences.bind(scoring.inferences);
scoring.inferences.writeInferences = async (rows) => {
  for (const row of rows) if (row.deviceState === 'monitoring') monitored.add(row.deviceId);
  return write(rows);
};
const handler = createHandler(dependenciesFromEnv(process.env), scoring);

/** One invocation, measured; its logs (stdout, as Lambda's go to CloudWatch) are counted, not shown. */
async function invoke(event: SQSEvent): Promise<Measured> {
  const lines: string[] = [];
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  let response: SQSBatchResponse;
  counter.take();
  const cpu = process.cpuUsage();
  const start = performance.now();
  try {
    response = await handler(event);
  } finally {
    process.stdout.write = stdoutWrite;
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const failed = lines.find((line) => /"level":"(ERROR|WARN)"/.test(line));
  if (failed || response.batchItemFailures.length > 0)
    throw new Error(
      `the function did not store and score the batch cleanly: ${failed ?? JSON.stringify(response)}`,
    );
  return {
    readings: event.Records.length * perMessage,
    messages: event.Records.length,
    cpuMs: (used.user + used.system) / 1000,
    wallMs,
    logBytes: lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0),
    calls: counter.take(),
  };
}

const fleet = new BenchFleet(devices, perMessage, Date.now() - 24 * 3600_000);
const calibrationReadings = scoringCalibration();
const phases: Phase[] = [];
try {
  phases.push({ phase: 'calibrating (commissioning)', samples: await calibrate() });
  for (const size of sizes) {
    process.stderr.write(`monitored: ${invocations} invocations of ${size} message(s)\n`);
    const samples: Measured[] = [];
    for (let i = 0; i < invocations; i += 1) samples.push(await invoke(fleet.event(size)));
    phases.push({ phase: `monitored, ${size} message(s) a batch`, samples });
  }
} finally {
  await edge.close();
  await influx.stop();
}
report();

/** Batches of the largest size until every device is scored against its own baseline. */
async function calibrate(): Promise<Measured[]> {
  const size = Math.max(...sizes);
  // Each device needs its calibration's readings, and a batch completes at most a few (4).
  const limit =
    Math.ceil((calibrationReadings / perMessage) * (devices / size)) + Math.ceil(devices / 4) + 20;
  const samples: Measured[] = [];
  while (monitored.size < devices) {
    if (samples.length >= limit)
      throw new Error(`${devices - monitored.size} devices still calibrating after ${limit} invocations`);
    samples.push(await invoke(fleet.event(size)));
    if (samples.length % 20 === 0)
      process.stderr.write(
        `calibrating: ${samples.length} invocations, ${monitored.size}/${devices} monitored\n`,
      );
  }
  return samples;
}

function scoringCalibration(): number {
  const policy = JSON.parse(env.ALERT_POLICY ?? '{}') as { calibrationReadings?: number };
  if (!policy.calibrationReadings) throw new Error('ALERT_POLICY has no calibrationReadings');
  return policy.calibrationReadings;
}

function report(): void {
  const memoryMb = deployed.memoryMb;
  const machine = `${cpus().length} cores (${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}), Node.js ${process.version}`;
  const monitoredPhases = phases.slice(1);
  const { line, figures } = lambdaFigures(monitoredPhases, memoryMb);
  console.log(
    `${devices} pumps, ${perMessage} readings a message, the ingest function at ${memoryMb} MB (means per invocation; ${machine})\n${phaseTable(phases, memoryMb)}`,
  );
  for (const phase of [phases[0], monitoredPhases.at(-1)])
    if (phase) console.log(`calls to other services, ${phase.phase}:\n${callsTable(phase.samples)}`);
  console.log(
    `monitored, least squares: CPU ${line.cpu.intercept.toFixed(1)} ms an invocation + ${line.cpu.slope.toFixed(3)} ms a reading; ` +
      `billed at ${memoryMb} MB ${line.billed.intercept.toFixed(1)} ms + ${line.billed.slope.toFixed(3)} ms a reading`,
  );
  const result = { devices, readingsPerMessage: perMessage, ...figures };
  if (values.record) {
    const provenance = {
      measuredBy: 'npm run bench:lambda',
      date: new Date().toISOString().slice(0, 10),
      machine,
    };
    writeFileSync(values.record, `${JSON.stringify({ ...result, ...provenance }, null, 2)}\n`);
  }
  console.log(JSON.stringify(result));
}

/** bench/lambda-edge.ts in a child process, with the model's sensors and the alert table's keys. */
async function startEdge(): Promise<{ dynamodb: string; edge: string; close(): Promise<void> }> {
  const table = {
    TableName: tableName,
    KeySchema: tableProps?.KeySchema,
    AttributeDefinitions: tableProps?.AttributeDefinitions,
    GlobalSecondaryIndexes: tableProps?.GlobalSecondaryIndexes,
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('lambda-edge.ts', import.meta.url).pathname,
      '--sensors',
      env.MODEL_SENSORS ?? '',
      '--table',
      JSON.stringify(table),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => {
      reject(new Error(`the AWS stand-ins exited with ${code}`));
    });
  });
  const urls = JSON.parse(firstLine) as { dynamodb: string; edge: string };
  return {
    ...urls,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.stdin.end();
      }),
  };
}
