import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { runTraining } from '../../model/train.ts';

let work: string;

/**
 * A machine's recording, one reading a minute: a pressure that follows a daily cycle and wanders
 * slowly (the default slow-sensor cut leaves it out), and a noise-like current.
 */
function recording(rows: number, seed: number): string {
  const random = seededRandom(seed);
  let wander = 0;
  const lines = ['pressure,current'];
  for (let i = 0; i < rows; i++) {
    wander = 0.98 * wander + 0.04 * gaussian(random);
    lines.push(`${7 + Math.sin((2 * Math.PI * i) / 1440) + wander},${3 + gaussian(random)}`);
  }
  return `${lines.join('\n')}\n`;
}

function channel(files: number, hyperparameters: Record<string, string>) {
  work = mkdtempSync(path.join(tmpdir(), 'aiot-train-choice-'));
  const trainDir = path.join(work, 'train');
  mkdirSync(trainDir);
  for (let file = 0; file < files; file++)
    writeFileSync(path.join(trainDir, `day-${file + 1}.csv`), recording(2880, file + 1));
  const hyperparametersFile = path.join(work, 'hyperparameters.json');
  writeFileSync(hyperparametersFile, JSON.stringify(hyperparameters));
  return { trainDir, modelDir: path.join(work, 'model'), hyperparametersFile };
}

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the training job chooses its settings on a held-out file', () => {
  it('GIVEN choose_settings and three files THEN the slow signal is scored, chosen on the last file, and the choice is in the model and the report', () => {
    const { model, report } = runTraining({
      ...channel(3, { choose_settings: 'true', sampling_seconds: '60' }),
    });
    expect(model.tracked.map((t) => t.sensor)).toEqual(['pressure', 'current']);
    expect(model.selection).toMatchObject({
      chosen: { slowSensorRatio: 0 },
      pinned: expect.arrayContaining(['thresholdQuantile', 'thresholdFactor']) as unknown,
    });
    expect(model.selection?.source).toContain('day-3.csv held out');
    expect(report.selection).toEqual(model.selection);
  });

  it('GIVEN no choose_settings THEN the defaults stand and the slow signal is left out', () => {
    const { model } = runTraining(channel(3, {}));
    expect(model.selection).toBeUndefined();
    expect(model.untracked.map((u) => u.sensor)).toEqual(['pressure']);
  });

  it('GIVEN choose_settings and one file THEN training is refused, saying why', () => {
    expect(() => runTraining(channel(1, { choose_settings: 'true' }))).toThrow(
      'choose_settings needs two training files or more: the last one is held out to choose on',
    );
  });
});
