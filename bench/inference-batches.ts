import { nearestRank } from './nearest-rank.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Table from 'cli-table3';
import type { AnomalyModel } from '../core/model/anomaly-model.ts';
import { calibrateBaseline } from '../core/model/device-baseline.ts';

/**
 * `npm run bench:inference -- --devices-per-call 1,10,100`: the windows of many devices in one
 * call, as the ingest function sends a batch's devices. Each device's window carries its own
 * baseline and reading ages, as the pipeline sends them; `streams` callers (Lambda instances)
 * send back to back. Latency is the call's, which is each of its windows'.
 */
export interface BatchBenchContext {
  readonly url: string;
  readonly model: AnomalyModel;
  readonly sensors: readonly string[];
  readonly readingsOf: (thing: string, count: number, seed: number) => number[][];
  readonly post: (url: string, body: string) => Promise<{ text: string; serverMs: number }>;
  readonly streams: number;
  readonly seconds: number;
  readonly history: number;
  readonly batch: number;
  /** The server process's CPU time so far, ms, when it runs in a process of its own. */
  readonly serverCpuMs?: () => Promise<number>;
}

export interface BatchBenchResult {
  readonly streams: number;
  readonly devicesPerCall: readonly number[];
  readonly p99Ms: readonly number[];
  readonly windowsPerSecond: readonly number[];
}

/** Each device's window as JSON: history and new readings, its calibrated baseline, the readings' ages. */
function deviceWindows(context: BatchBenchContext, devices: number): string[] {
  const { model, sensors, history, batch } = context;
  const calibration = model.params.calibrationRows;
  return Array.from({ length: devices }, (_, d) => {
    const rows = context.readingsOf(`pump-${d}`, calibration + history + batch, 500 + d);
    const baseline = calibrateBaseline(model, { sensors, rows: rows.slice(0, calibration) });
    const window = rows.slice(calibration);
    return JSON.stringify({
      sensors,
      rows: window,
      scoreFrom: history,
      baseline,
      ageSeconds: window.map((_, i) => 600 + i),
    });
  });
}

async function measure(
  context: BatchBenchContext,
  bodies: readonly string[],
  perCall: number,
  seconds: number,
): Promise<{ p99: number; windowsPerSecond: number; windowsPerCpuSecond?: number; calls: number }> {
  const latencies: number[] = [];
  const cpuBefore = await context.serverCpuMs?.();
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: context.streams }, async (_, s) => {
      for (let call = 0; performance.now() < deadline; call++) {
        const first = (s * 7919 + call * perCall) % bodies.length;
        const windows = Array.from({ length: perCall }, (_, i) => bodies[(first + i) % bodies.length]);
        const started = performance.now();
        const answer = await context.post(context.url, `{"windows":[${windows.join(',')}]}`);
        latencies.push(performance.now() - started);
        const parsed = JSON.parse(answer.text) as { windows: { error?: string }[] };
        const refused = parsed.windows.find((window) => window.error);
        if (refused) throw new Error(`the model refused a window: ${refused.error}`);
      }
    }),
  );
  const cpuAfter = await context.serverCpuMs?.();
  latencies.sort((a, b) => a - b);
  const windows = latencies.length * perCall;
  return {
    p99: nearestRank(latencies, 0.99),
    windowsPerSecond: windows / seconds,
    // What the server scores a second of its own CPU: the load generator shares these cores.
    ...(cpuBefore !== undefined && cpuAfter !== undefined
      ? { windowsPerCpuSecond: windows / ((cpuAfter - cpuBefore) / 1000) }
      : {}),
    calls: latencies.length,
  };
}

export async function benchmarkBatches(
  context: BatchBenchContext,
  devicesPerCall: readonly number[],
): Promise<{ table: string; result: BatchBenchResult; windowsPerCpuSecond: (number | undefined)[] }> {
  const devices = Math.max(200, ...devicesPerCall);
  process.stderr.write(`calibrating ${devices} device baselines...\n`);
  const bodies = deviceWindows(context, devices);
  const table = new Table({
    head: [
      'devices per call',
      'calls',
      'p99 ms (call = each window)',
      'windows/s',
      'readings/s',
      'windows per server CPU-s',
    ],
    style: { head: [], border: [] },
  });
  const p99Ms: number[] = [];
  const windowsPerSecond: number[] = [];
  const windowsPerCpuSecond: (number | undefined)[] = [];
  for (const perCall of devicesPerCall) {
    process.stderr.write(
      `${perCall} devices per call, ${context.streams} callers: 2 s warm-up, then ${context.seconds} s measured...\n`,
    );
    await measure(context, bodies, perCall, 2);
    const r = await measure(context, bodies, perCall, context.seconds);
    p99Ms.push(Math.round(r.p99 * 10) / 10);
    windowsPerSecond.push(Math.round(r.windowsPerSecond));
    windowsPerCpuSecond.push(
      r.windowsPerCpuSecond === undefined ? undefined : Math.round(r.windowsPerCpuSecond),
    );
    table.push([
      perCall,
      r.calls,
      r.p99.toFixed(1),
      r.windowsPerSecond.toFixed(0),
      (r.windowsPerSecond * context.batch).toFixed(0),
      r.windowsPerCpuSecond?.toFixed(0) ?? '- (in process)',
    ]);
  }
  return {
    table: table.toString(),
    result: { streams: context.streams, devicesPerCall, p99Ms, windowsPerSecond },
    windowsPerCpuSecond,
  };
}

/**
 * Keeps the figures `npm run cost` sizes the endpoint with: the windows one server process scores
 * a second of its own CPU (one vCPU busy) at the largest batch, with the command, date and machine
 * that measured them. Needs the server in a process of its own.
 */
export function recordFigures(
  file: string,
  result: BatchBenchResult,
  windowsPerCpuSecond: readonly (number | undefined)[],
  windows: { readonly history: number; readonly batch: number },
): void {
  const largest = result.devicesPerCall.indexOf(Math.max(...result.devicesPerCall));
  const perCpuSecond = windowsPerCpuSecond[largest];
  if (perCpuSecond === undefined)
    throw new Error('--record needs the server in a process of its own (without --in-process)');
  const figures = {
    windowsPerCpuSecond: perCpuSecond,
    devicesPerCall: result.devicesPerCall[largest],
    historyReadings: windows.history,
    newReadingsPerWindow: windows.batch,
    measuredBy: `npm run bench:inference -- --devices-per-call ${result.devicesPerCall.join(',')}`,
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), Node.js ${process.version}`,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  process.stderr.write(`figures kept in ${file}\n`);
}
