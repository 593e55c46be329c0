import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceFileName, FEEDBACK_INDEX_FILE, type FeedbackIndex } from '../../core/model/fine-tune-data.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { FINE_TUNE_METRIC_DEFINITIONS } from '../../lambdas/adapters/sagemaker-fine-tune.ts';
import { containerBuildOptions } from '../../model/build.ts';
import { runFineTune } from '../../model/fine-tune-job.ts';
import { runTraining } from '../../model/train.ts';

/**
 * The training job's fine-tuning mode as SageMaker runs it: the live model's artifact in the `live`
 * channel, readings and verdicts in the `feedback` channel (as lambdas/fine-tune/start.ts writes
 * them), a candidate and its held-out comparison out, and the figures on the log in the form the
 * job's metric definitions read.
 */
let work: string;
let bundle: string;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const ROWS = 3000;
/** From this reading on, the plant runs at a new flow setpoint: planned, normal, and new to the model. */
const SETPOINT_CHANGE = 1000;

/** One pump, a reading a second: flow, pressure following it, current; `fault` rows with a pressure surge. */
function pump(seed: number, rows: number, options: { change?: number; fault?: [number, number] } = {}) {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, (_, i) => {
    const setpoint = options.change !== undefined && i >= options.change ? 36 : 30;
    const flow = setpoint + 0.6 * gaussian(random);
    const surge = options.fault && i >= options.fault[0] && i < options.fault[1] ? 9 : 0;
    return {
      time: T0 + i * 1000,
      flow,
      pressure: 0.2 * flow + 0.2 * gaussian(random) + surge,
      current: 12 + 0.5 * gaussian(random),
    };
  });
}

const csvOf = (rows: ReturnType<typeof pump>, withTime: boolean) =>
  [
    withTime ? 'time,flow,pressure,current' : 'flow,pressure,current',
    ...rows.map((r) => `${withTime ? `${r.time},` : ''}${r.flow},${r.pressure},${r.current}`),
  ].join('\n') + '\n';

/** The live model, trained on the old setpoint, kept as SageMaker keeps an artifact: model.tar.gz. */
function liveArtifact(dir: string): void {
  const trainDir = path.join(work, 'live-training');
  mkdirSync(trainDir, { recursive: true });
  writeFileSync(path.join(trainDir, 'a.csv'), csvOf(pump(1, 4000), false));
  writeFileSync(path.join(trainDir, 'b.csv'), csvOf(pump(2, 4000), false));
  const modelDir = path.join(work, 'live-model');
  runTraining({ trainDir, modelDir, hyperparametersFile: path.join(work, 'none.json') });
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', [
    '-czf',
    path.join(dir, 'model.tar.gz'),
    '-C',
    modelDir,
    'model.json',
    'training.json',
  ]);
}

/** Two pumps after the setpoint change, four windows judged normal, one confirmed surge. */
function feedbackChannel(dir: string): FeedbackIndex {
  mkdirSync(dir, { recursive: true });
  const devices = [
    { deviceId: 'pump-001', rows: pump(11, ROWS, { change: SETPOINT_CHANGE, fault: [2600, 2700] }) },
    { deviceId: 'pump-002', rows: pump(12, ROWS, { change: SETPOINT_CHANGE }) },
  ];
  const window = (deviceId: string, from: number, to: number, label: 'normal' | 'anomaly') => ({
    deviceId,
    label,
    from: T0 + from * 1000,
    to: T0 + to * 1000,
  });
  const index: FeedbackIndex = {
    useCase: 'pump-maintenance',
    reason: 'fine-tuned by itself after 4 false-positive verdicts since the last candidate',
    verdicts: 4,
    days: 7,
    devices: devices.map((d, i) => ({ deviceId: d.deviceId, file: deviceFileName(i, d.deviceId) })),
    labels: [
      window('pump-001', 1200, 1400, 'normal'),
      window('pump-002', 1500, 1700, 'normal'),
      window('pump-001', 2000, 2200, 'normal'),
      window('pump-002', 2400, 2600, 'normal'),
      window('pump-001', 2600, 2700, 'anomaly'),
    ],
  };
  for (const [i, d] of devices.entries())
    writeFileSync(path.join(dir, deviceFileName(i, d.deviceId)), csvOf(d.rows, true));
  writeFileSync(path.join(dir, FEEDBACK_INDEX_FILE), JSON.stringify(index));
  return index;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'aiot-fine-tune-job-'));
  bundle = path.join(work, 'container.mjs');
  await build({ ...containerBuildOptions(bundle), logLevel: 'silent' });
  liveArtifact(path.join(work, 'input', 'data', 'live'));
  feedbackChannel(path.join(work, 'input', 'data', 'feedback'));
  mkdirSync(path.join(work, 'input', 'config'), { recursive: true });
  writeFileSync(
    path.join(work, 'input', 'config', 'hyperparameters.json'),
    JSON.stringify({ model_version: 'pump-maintenance', reason: 'four false positives' }),
  );
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the training job fine-tunes the live model on verdicts', () => {
  it('GIVEN a live model that flags a new normal setpoint WHEN the job runs with the verdicts THEN the candidate flags less of the held-out normal windows, still flags the confirmed fault, and the log carries every metric', async () => {
    const child = spawn(process.execPath, [bundle, 'train'], {
      env: { ...process.env, SM_PREFIX: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(code, stderr).toBe(0);
    // What SageMaker would read off the log with the job's metric definitions.
    const metrics = Object.fromEntries(
      FINE_TUNE_METRIC_DEFINITIONS.map((d) => [d.Name, Number(new RegExp(d.Regex).exec(stdout)?.[1])]),
    );
    expect(Object.values(metrics).every(Number.isFinite), stdout).toBe(true);
    expect(metrics.live_normal_flagged_share).toBeGreaterThan(0.5);
    expect(metrics.normal_flagged_share).toBeLessThan(0.1);
    expect(metrics.faults).toBe(1);
    expect(metrics.faults_flagged).toBe(1);
    // Two of the four normal windows were held out of the model that scored them.
    expect(metrics.held_out_normal_readings).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(path.join(work, 'model', 'training.json'), 'utf8')) as {
      modelVersion: string;
      heldOut: unknown[];
      reason: string;
    };
    expect(report.modelVersion).toMatch(/^pump-maintenance-ft-[0-9a-f]{12}$/);
    expect(report.heldOut).toHaveLength(3);
  }, 120_000);

  it('GIVEN a feedback index naming a file outside the channel THEN the job fails naming the field, before reading anything', () => {
    const dir = path.join(work, 'hostile');
    mkdirSync(dir, { recursive: true });
    const index = JSON.parse(
      readFileSync(path.join(work, 'input', 'data', 'feedback', FEEDBACK_INDEX_FILE), 'utf8'),
    ) as FeedbackIndex;
    writeFileSync(
      path.join(dir, FEEDBACK_INDEX_FILE),
      JSON.stringify({ ...index, devices: [{ deviceId: 'pump-001', file: '../../etc/passwd' }] }),
    );

    expect(() =>
      runFineTune({
        feedbackDir: dir,
        liveDir: path.join(work, 'input', 'data', 'live'),
        modelDir: path.join(work, 'hostile-model'),
        hyperparametersFile: path.join(work, 'none.json'),
      }),
    ).toThrow(/devices\.0\.file/);
  });
});
