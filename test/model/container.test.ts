import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { containerBuildOptions } from '../../model/build.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDescriptionSchema } from '../../core/drift/profile.ts';
import { scoreReadings } from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { loadModel } from '../../model/invocations.ts';

let work: string;
let bundle: string;
let server: ChildProcess | undefined;

function csv(rows: number, seed: number, shift = 0): string {
  const random = seededRandom(seed);
  const lines = ['timestamp;vibration;current;flow;label'];
  for (let i = 0; i < rows; i++) {
    const load = gaussian(random);
    const drift = i >= rows / 2 ? shift : 0;
    lines.push(
      `2026-01-01T00:${String(i).padStart(4, '0')};${0.03 + 0.002 * gaussian(random) + drift};${1.3 + 0.05 * load};${32 + 0.8 * load + 0.3 * gaussian(random)};0`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the bundled container as SageMaker would: `<entry> train|serve` with /opt/ml mapped by SM_* variables. */
function container(command: 'train' | 'serve', env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [bundle, command], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    }),
  );
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'aiot-container-'));
  bundle = path.join(work, 'container.mjs');
  await build({ ...containerBuildOptions(bundle), logLevel: 'silent' });
  mkdirSync(path.join(work, 'input', 'data', 'train'), { recursive: true });
  mkdirSync(path.join(work, 'input', 'config'), { recursive: true });
  writeFileSync(path.join(work, 'input', 'data', 'train', 'part-1.csv'), csv(300, 1));
  writeFileSync(path.join(work, 'input', 'data', 'train', 'part-2.csv'), csv(300, 2));
  // SageMaker passes hyperparameters as strings.
  writeFileSync(
    path.join(work, 'input', 'config', 'hyperparameters.json'),
    JSON.stringify({ exclude: 'label', smoothing_window: '30', model_version: 'pump-test' }),
  );
});

afterAll(() => {
  server?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('SageMaker container contract', () => {
  it('trains from the channel and hyperparameters, writing the model and its training statistics', async () => {
    const run = await exitOf(container('train', { SM_PREFIX: work, SM_MODEL_DIR: path.join(work, 'model') }));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(work, 'model', 'training.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(report).toMatchObject({
      rows: 600,
      files: ['part-1.csv', 'part-2.csv'],
      sensors: ['vibration', 'current', 'flow'],
    });
    expect(report.modelVersion).toMatch(/^pump-test-[0-9a-f]{12}$/);
    expect(loadModel(path.join(work, 'model')).params.smoothingWindow).toBe(30);
  });

  it('serves /ping and /invocations with the trained model, as scored in process', async () => {
    server = container('serve', { SM_MODEL_DIR: path.join(work, 'model'), SAGEMAKER_BIND_TO_PORT: '0' });
    const port = await new Promise<number>((resolve, reject) => {
      server?.stdout?.on('data', (chunk: Buffer) => {
        const match = /"port":(\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      server?.on('close', (code) => {
        reject(new Error(`serve exited with ${String(code)}`));
      });
    });
    const ping = await fetch(`http://127.0.0.1:${port}/ping`);
    expect(ping.status).toBe(200);

    const rows = csv(200, 3, 0.05)
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(';').slice(1, 4).map(Number));
    const response = await fetch(`http://127.0.0.1:${port}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sensors: ['vibration', 'current', 'flow'], rows, scoreFrom: 150 }),
    });
    expect(response.status).toBe(200);
    // The server's own share of the latency, for callers telling it from the network's.
    expect(response.headers.get('server-timing')).toMatch(/^app;dur=\d+\.\d{2}$/);
    const body = (await response.json()) as {
      results: { index: number; score: number; anomalous: boolean }[];
      modelVersion: string;
    };
    // The readings from scoreFrom on, as the model scores them in process.
    const expected = scoreReadings(
      loadModel(path.join(work, 'model')),
      { sensors: ['vibration', 'current', 'flow'], rows },
      150,
    );
    expect(body.results).toHaveLength(50);
    expect(body.results[0]?.index).toBe(150);
    expect(body.results.map((r) => r.score)).toEqual(expected.map((r) => r.score));
    expect(body.results.some((r) => r.anomalous)).toBe(true);

    const bad = await fetch(`http://127.0.0.1:${port}/invocations`, {
      method: 'POST',
      body: JSON.stringify({ sensors: ['vibration'], rows: [[1]] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('server-timing')).toMatch(/^app;dur=/);
    expect(((await bad.json()) as { error: string }).error).toContain('readings lack sensor "current"');

    // What the drift checks ask: the served model's version, scored inputs and training profile.
    const described = await fetch(`http://127.0.0.1:${port}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ describe: 'model' }),
    });
    const description = modelDescriptionSchema.parse(await described.json());
    expect(description.modelVersion).toBe(body.modelVersion);
    expect(description.profile?.map((p) => p.sensor)).toEqual(['vibration', 'current', 'flow']);
    expect(description.profile?.[0]?.shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 9);
  });

  it('reports a training failure in /opt/ml/output/failure, as SageMaker expects', async () => {
    const empty = path.join(work, 'empty');
    mkdirSync(path.join(empty, 'input', 'data', 'train'), { recursive: true });
    const run = await exitOf(container('train', { SM_PREFIX: empty }));
    expect(run.code).not.toBe(0);
    expect(existsSync(path.join(empty, 'output', 'failure'))).toBe(true);
    expect(readFileSync(path.join(empty, 'output', 'failure'), 'utf8')).toContain('holds no .csv file');
  });
});
