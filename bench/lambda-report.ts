/**
 * What bench/lambda-cost.ts prints: the invocations of each phase, the calls they made, and the
 * figures `npm run cost` takes (a least-squares line over the monitored invocations).
 */
import Table from 'cli-table3';
import { billedMs, fitLine, type InvocationSample } from '../core/cost/lambda-duration.ts';
import { emptyCount, type CallCount } from './lambda-calls.ts';

export interface Measured extends InvocationSample {
  /** Messages of its batch. */
  readonly messages: number;
  /** Bytes it logged (what CloudWatch Logs would ingest). */
  readonly logBytes: number;
  /** The calls it made, by service and operation. */
  readonly calls: ReadonlyMap<string, CallCount>;
}

export interface Phase {
  readonly phase: string;
  readonly samples: readonly Measured[];
}

const mean = (samples: readonly Measured[], of: (s: Measured) => number) =>
  samples.reduce((sum, s) => sum + of(s), 0) / samples.length;

export function phaseTable(phases: readonly Phase[], memoryMb: number): string {
  const table = new Table({
    head: [
      'batches',
      'invocations',
      'readings each',
      'CPU ms',
      'wall ms',
      `billed ms at ${memoryMb} MB`,
      'log bytes',
    ],
    style: { head: [], border: [] },
  });
  for (const { phase, samples } of phases)
    table.push([
      phase,
      samples.length,
      mean(samples, (s) => s.readings).toFixed(0),
      mean(samples, (s) => s.cpuMs).toFixed(1),
      mean(samples, (s) => s.wallMs).toFixed(1),
      mean(samples, (s) => billedMs(s, memoryMb)).toFixed(1),
      mean(samples, (s) => s.logBytes).toFixed(0),
    ]);
  return table.toString();
}

/** Calls by operation over the samples: per invocation, per message, and bytes a call. */
function callsOf(samples: readonly Measured[]): Map<string, CallCount> {
  const totals = new Map<string, CallCount>();
  for (const sample of samples)
    for (const [operation, count] of sample.calls) {
      const total = totals.get(operation) ?? emptyCount();
      total.calls += count.calls;
      total.bytes += count.bytes;
      total.kbUnits += count.kbUnits;
      total.responseBytes += count.responseBytes;
      total.responseUnits4k += count.responseUnits4k;
      totals.set(operation, total);
    }
  return totals;
}

export function callsTable(samples: readonly Measured[]): string {
  const messages = samples.reduce((sum, s) => sum + s.messages, 0);
  const table = new Table({
    head: ['call', 'per invocation', 'per message', 'request bytes a call', 'answer bytes a call'],
    style: { head: [], border: [] },
  });
  const totals = [...callsOf(samples)].sort((a, b) => b[1].calls - a[1].calls);
  for (const [operation, total] of totals)
    table.push([
      operation,
      (total.calls / samples.length).toFixed(2),
      (total.calls / messages).toFixed(3),
      (total.bytes / total.calls).toFixed(0),
      total.responseBytes > 0 ? (total.responseBytes / total.calls).toFixed(0) : '-',
    ]);
  return table.toString();
}

const DYNAMODB_READS = ['DynamoDB GetItem', 'DynamoDB Query', 'DynamoDB BatchGetItem'];
const DYNAMODB_WRITES = [
  'DynamoDB PutItem',
  'DynamoDB UpdateItem',
  'DynamoDB TransactWriteItems',
  'DynamoDB BatchWriteItem',
];

/**
 * The figures of the monitored phases: billed and CPU ms per invocation and per reading (a line
 * through every monitored invocation), log bytes per reading, and DynamoDB calls per message of
 * the largest batches (reads and writes as calls; reads also in 4 KB units of the answers and
 * writes in KB of the requests, about their read and write units).
 */
export function lambdaFigures(monitored: readonly Phase[], memoryMb: number) {
  const steady = monitored.flatMap((phase) => phase.samples);
  const cpuLine = fitLine(steady.map((s) => ({ x: s.readings, y: s.cpuMs })));
  const billedLine = fitLine(steady.map((s) => ({ x: s.readings, y: billedMs(s, memoryMb) })));
  const largest = monitored.at(-1)?.samples ?? [];
  const messages = largest.reduce((sum, s) => sum + s.messages, 0);
  const calls = callsOf(largest);
  const sum = (operations: readonly string[], of: (c: CallCount) => number) =>
    operations.reduce((total, op) => total + (calls.has(op) ? of(calls.get(op) as CallCount) : 0), 0);
  return {
    line: { cpu: cpuLine, billed: billedLine },
    figures: {
      memoryMb,
      cpuMsPerInvocation: round(cpuLine.intercept),
      cpuMsPerReading: round(cpuLine.slope),
      billedMsPerInvocation: round(billedLine.intercept),
      billedMsPerReading: round(billedLine.slope),
      logBytesPerReading: round(
        steady.reduce((total, s) => total + s.logBytes, 0) /
          steady.reduce((total, s) => total + s.readings, 0),
      ),
      dynamodbReadsPerMessage: round(sum(DYNAMODB_READS, (c) => c.calls) / messages),
      dynamodbReadUnitsPerMessage: round(sum(DYNAMODB_READS, (c) => c.responseUnits4k) / messages),
      dynamodbWritesPerMessage: round(sum(DYNAMODB_WRITES, (c) => c.calls) / messages),
      dynamodbWriteKbPerMessage: round(sum(DYNAMODB_WRITES, (c) => c.kbUnits) / messages),
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
