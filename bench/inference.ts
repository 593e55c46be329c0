/**
 * Latency and throughput of POST /invocations on this machine, with 1x and 5x concurrent device
 * streams, and the model's own compute time per reading. The server is the container's code on a
 * local port, in a process of its own (as the endpoint is), unless `--in-process`; each stream
 * sends the sliding window of its device (history + new readings), one request at a time, as the
 * pipeline does.
 *
 *   npm run bench:inference -- --streams 20 --seconds 10                     # saturation
 *   npm run bench:inference -- --streams 20 --seconds 10 --interval-ms 200   # paced streams
 *
 * The last line is one JSON object: streams, p50 and p99 at 1x and 5x, and p99(5x)/p99(1x).
 *
 *   npm run bench:inference -- --devices-per-call 1,10,100                  # many devices a call
 *   npm run bench:inference -- --devices-per-call 1,10,100 --record bench/measured/inference.json
 *
 * With --devices-per-call, each call carries that many devices' windows with their baselines (as
 * the ingest function batches them), and the last line is {streams, devicesPerCall, p99Ms,
 * windowsPerSecond} (bench/inference-batches.ts).
 */
import { nearestRank } from './nearest-rank.ts';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { historyReadings, scoreReadings } from '../core/model/anomaly-model.ts';
import { benchModel, PUMP_SENSORS, pumpRows } from './bench-model.ts';
import { startModelServer } from '../model/serve.ts';
import { MAX_WINDOWS_PER_CALL } from '../core/inference/batch.ts';
import { benchmarkBatches, recordFigures } from './inference-batches.ts';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    // Readings of history a window carries. @default what the model asks for, as the pipeline sends
    history: { type: 'string' },
    // New readings a window carries: one telemetry message, the agent's 5-second pack at 1 a second.
    batch: { type: 'string', default: '5' },
    'interval-ms': { type: 'string', default: '0' },
    'in-process': { type: 'boolean', default: false },
    'devices-per-call': { type: 'string' },
    // With --devices-per-call: keep the figures for `npm run cost` (bench/measured/inference.json).
    record: { type: 'string' },
    // Child mode: serve the bench model and print the port.
    serve: { type: 'boolean', default: false },
  },
});
const baseStreams = Number(values.streams);
const seconds = Number(values.seconds);
const batch = Number(values.batch);
// 0: each stream sends its next window as soon as the last is answered (saturation).
const intervalMs = Number(values['interval-ms']);
const devicesPerCall = values['devices-per-call']?.split(',').map((text) => {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > MAX_WINDOWS_PER_CALL)
    throw new Error(
      `--devices-per-call takes whole numbers from 1 to ${MAX_WINDOWS_PER_CALL}, got "${text}"`,
    );
  return count;
});

const readingsOf = (thing: string, count: number, seed: number) => pumpRows(thing, count, seed);
const sensors = PUMP_SENSORS;
const model = benchModel(sensors, 'bench');
const history = values.history === undefined ? historyReadings(model.params) : Number(values.history);
if (!Number.isInteger(history) || history < 0)
  throw new Error(`--history takes a whole number, got "${values.history}"`);
if (!Number.isInteger(batch) || batch < 1)
  throw new Error(`--batch takes a whole number from 1, got "${values.batch}"`);
/** Windows each stream cycles through. */
const WINDOWS = 20;
// One kept-alive connection per stream, as SageMaker's front end keeps them: no connection setup
// in the measured time, and node:http costs the load generator less CPU than fetch.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** The answer's body, and the server's own time for it (its Server-Timing header). */
function post(url: string, body: string): Promise<{ text: string; serverMs: number }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const timing = /app;dur=([\d.]+)/.exec(String(response.headers['server-timing']));
          if (response.statusCode === 200)
            resolve({ text: Buffer.concat(chunks).toString('utf8'), serverMs: Number(timing?.[1] ?? NaN) });
          else reject(new Error(`/invocations answered ${response.statusCode}`));
        });
      },
    );
    request.on('error', reject);
    // Headers and body may go as two segments: with Nagle's algorithm the second waits for the
    // server's delayed ACK (40 ms), the very tail this bench measures.
    request.on('socket', (socket) => socket.setNoDelay(true));
    request.end(body);
  });
}

if (values.serve) {
  const served = await startModelServer(model, { port: 0, host: '127.0.0.1' });
  // Where the server's tail comes from: how late its event loop runs, and its GC pauses.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const gcPauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    gcPauses.sort((a, b) => a - b);
    process.stderr.write(
      `server event loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms; ` +
        `${gcPauses.length} GC pauses, p99 ${nearestRank(gcPauses, 0.99).toFixed(1)} ms, max ${(gcPauses.at(-1) ?? 0).toFixed(1)} ms\n`,
    );
  });
  console.log(JSON.stringify({ port: served.port }));
  // The bench asks for this process's CPU time around a measured window.
  process.on('message', () => process.send?.(process.cpuUsage()));
  // Serve until the parent goes: its end of stdin closes with it.
  process.stdin.resume();
  process.stdin.on('close', () => {
    void served.close().then(() => process.exit(0));
  });
} else if (devicesPerCall) {
  const server = await startServer();
  const { table, result, windowsPerCpuSecond } = await benchmarkBatches(
    {
      url: `http://127.0.0.1:${server.port}/invocations`,
      model,
      sensors,
      readingsOf,
      post,
      streams: baseStreams,
      seconds,
      history,
      batch,
      ...(server.cpuMs ? { serverCpuMs: server.cpuMs } : {}),
    },
    devicesPerCall,
  );
  await server.close();
  console.log(
    `windows of ${history} history + ${batch} new readings with the device's baseline, ${baseStreams} callers back to back\n${table}`,
  );
  if (values.record) recordFigures(values.record, result, windowsPerCpuSecond, { history, batch });
  console.log(JSON.stringify(result));
} else {
  await benchmark();
}

/** The model server in a child process (the same model: training is deterministic), or in this one. */
async function startServer(): Promise<{
  port: number;
  /** The server process's CPU time so far, ms (none in process: it would be the bench's too). */
  cpuMs?: () => Promise<number>;
  close: () => Promise<void>;
}> {
  if (values['in-process']) {
    const server = await startModelServer(model, { port: 0, host: '127.0.0.1' });
    return { port: server.port, close: () => server.close() };
  }
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const { stdin, stdout } = child;
  if (!stdin || !stdout) throw new Error('the model server process has no stdin or stdout');
  const cpuMs = () =>
    new Promise<number>((resolve) => {
      child.once('message', (usage: NodeJS.CpuUsage) => {
        resolve((usage.user + usage.system) / 1000);
      });
      child.send('cpu');
    });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => {
      reject(new Error(`the model server process exited with ${code}`));
    });
  });
  const { port } = JSON.parse(firstLine) as { port: number };
  return {
    port,
    cpuMs,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        stdin.end();
      }),
  };
}

/**
 * Every stream's windows, serialized before any clock starts: the load generator should spend its
 * time sending, not building garbage that makes its own GC part of the measured tail. Built in one
 * go before a run, so no stream's start waits on another's preparation.
 */
function prepareStreams(streams: number): string[][] {
  return Array.from({ length: streams }, (_, s) => {
    const rows = readingsOf(`pump-${s}`, history + batch * WINDOWS, 100 + s);
    return Array.from({ length: WINDOWS }, (_, w) =>
      JSON.stringify({
        sensors,
        rows: rows.slice(w * batch, w * batch + history + batch),
        scoreFrom: history,
      }),
    );
  });
}

async function run(url: string, prepared: readonly string[][], duration = seconds) {
  const streams = prepared.length;
  const clientDelay = monitorEventLoopDelay({ resolution: 1 });
  clientDelay.enable();
  const latencies: number[] = [];
  const serverTimes: number[] = [];
  let readingsScored = 0;
  const deadline = performance.now() + duration * 1000;
  await Promise.all(
    prepared.map(async (bodies, s) => {
      // Devices are not synchronized: spread the streams' first requests over one interval.
      if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, (intervalMs * s) / streams));
      for (let w = 0; performance.now() < deadline; w = (w + 1) % WINDOWS) {
        const started = performance.now();
        const answer = await post(url, bodies[w] ?? '');
        const latency = performance.now() - started;
        JSON.parse(answer.text);
        latencies.push(latency);
        serverTimes.push(answer.serverMs);
        readingsScored += batch;
        if (intervalMs > latency) await new Promise((resolve) => setTimeout(resolve, intervalMs - latency));
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  serverTimes.sort((a, b) => a - b);
  clientDelay.disable();
  process.stderr.write(
    `  load generator event loop delay p99 ${(clientDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(clientDelay.max / 1e6).toFixed(1)} ms\n`,
  );
  return {
    streams,
    requests: latencies.length,
    p50: nearestRank(latencies, 0.5),
    p99: nearestRank(latencies, 0.99),
    serverP99: nearestRank(serverTimes, 0.99),
    requestsPerSecond: latencies.length / duration,
    readingsPerSecond: readingsScored / duration,
  };
}

async function benchmark(): Promise<void> {
  const server = await startServer();
  const url = `http://127.0.0.1:${server.port}/invocations`;
  const table = new Table({
    head: ['streams', 'requests', 'p50 ms', 'p99 ms', 'server p99 ms', 'requests/s', 'readings/s'],
    style: { head: [], border: [] },
  });
  const results = [];
  for (const streams of [baseStreams, baseStreams * 5]) {
    const prepared = prepareStreams(streams);
    // A served model is warm and its callers' connections open: JIT, first requests and TCP
    // handshakes are not what a device sees in steady state.
    process.stderr.write(`${streams} concurrent streams: 2 s warm-up, then ${seconds} s measured...\n`);
    await run(url, prepared, 2);
    const r = await run(url, prepared);
    results.push(r);
    table.push([
      r.streams,
      r.requests,
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      r.serverP99.toFixed(1),
      r.requestsPerSecond.toFixed(0),
      r.readingsPerSecond.toFixed(0),
    ]);
  }
  await server.close();

  // The model alone, in process: the same windows, no HTTP.
  const windowRows = readingsOf('compute', history + batch, 7);
  const repeats = 2000;
  const started = performance.now();
  for (let i = 0; i < repeats; i++) scoreReadings(model, { sensors, rows: windowRows });
  const perWindow = (performance.now() - started) / repeats;
  console.log(
    `windows of ${history} history + ${batch} new readings, ${sensors.length} sensors, ${intervalMs > 0 ? `one window per stream every ${intervalMs} ms` : 'streams back to back (saturation)'}\n${table.toString()}`,
  );
  console.log(
    `model compute: ${(perWindow * 1000).toFixed(0)} µs per window, ${((perWindow * 1000) / (history + batch)).toFixed(1)} µs per reading`,
  );
  const [one, five] = results;
  const round = (n: number | undefined) => Math.round((n ?? Number.NaN) * 10) / 10;
  console.log(
    JSON.stringify({
      streams: baseStreams,
      serverProcess: values['in-process'] ? 'shared' : 'own',
      p50At1x: round(one?.p50),
      p99At1x: round(one?.p99),
      p50At5x: round(five?.p50),
      p99At5x: round(five?.p99),
      serverP99At5x: round(five?.serverP99),
      ratio: Math.round(((five?.p99 ?? Number.NaN) / (one?.p99 ?? Number.NaN)) * 100) / 100,
    }),
  );
}
