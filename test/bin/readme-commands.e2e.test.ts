import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { aiot, type Run } from '../support/cli.ts';
import { normal, PUMP_CALIBRATION, TestPump, worn } from '../support/pump.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The README's `aiot` table, as a user meets it: every row runs here in its default form (the
 * arguments it requires, no optional flag but the data folder and free ports), against a runtime
 * that has stored readings and opened an alert. A README row without a case here fails the test.
 */
const ROOT = path.join(import.meta.dirname, '..', '..');
const CALIBRATION = PUMP_CALIBRATION;

/** The command cells of the README's CLI table: "aiot alerts list|show|…". */
function readmeCommands(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return readme
    .split('\n')
    .filter((line) => line.startsWith('| `aiot '))
    .map((line) => (/^\| `([^`]+)`/.exec(line)?.[1] ?? '').replace(/\\\|/g, '|'));
}

let runtime: LocalRuntime;
let dataDir: string;
let stopRuntime: () => Promise<void>;
let work: string;
let alertId: string;
const ran = new Map<string, Run[]>();

/** Runs one form of a README row, and keeps it under that row. */
async function row(command: string, args: string[], options: Parameters<typeof aiot>[1] = {}): Promise<Run> {
  const run = await aiot(args, { timeoutMs: 120_000, ...options });
  ran.set(command, [...(ran.get(command) ?? []), run]);
  expect(run.code, `aiot ${args.join(' ')}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run;
}

const inData = (...args: string[]) => [...args, '--data-dir', dataDir];

/** A CSV of a healthy pump's sensors, as `aiot model train` and `score` read them. */
function pumpCsv(rows: number, seed: number): string {
  const random = seededRandom(seed);
  const lines = ['timestamp,vibrationRmsX,motorCurrent,flowRate'];
  for (let i = 0; i < rows; i++) {
    const load = gaussian(random);
    lines.push(
      `${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()},${0.03 + 0.002 * gaussian(random)},${12 + 0.5 * load},${320 + 8 * load + 3 * gaussian(random)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  ({ runtime, dataDir, stop: stopRuntime } = await startTestRuntime('aiot-readme-'));
  work = mkdtempSync(path.join(tmpdir(), 'aiot-readme-work-'));
  mkdirSync(path.join(work, 'train'));
  writeFileSync(path.join(work, 'train', 'pump.csv'), pumpCsv(600, 1));
  // A pump that calibrates, then wears: an alert to list, show and answer.
  const pump = new TestPump(runtime, 'pump-readme', 7, Date.now() - (CALIBRATION + 200) * 1000);
  await pump.publish(CALIBRATION + 20, normal);
  await pump.publish(150, worn);
  // The calibration scored on a machine running other test files beside this one: a minute, not the default 20 s.
  const [alert] = await waitFor(
    'an open alert',
    async () => {
      const { alerts } = await callRuntime<{ alerts: Alert[] }>(dataDir, 'GET', '/alerts?device=pump-readme');
      return alerts.length > 0 ? alerts : undefined;
    },
    60_000,
  );
  alertId = alert?.id ?? '';
}, 180_000);

afterAll(async () => {
  await stopRuntime();
  rmSync(work, { recursive: true, force: true });
});

describe("the README's aiot commands, each in its default form", () => {
  it('GIVEN a fresh clone THEN the commands that need no runtime answer', async () => {
    expect((await row('aiot contracts list', ['contracts', 'list'])).stdout).toContain('pump.telemetry@2');
    const example = await row(
      'aiot contracts example <contract> [--device <thing>] [--seq <n>] [--timestamp <iso|now>]',
      ['contracts', 'example', 'pump.telemetry@1'],
    );
    expect(JSON.parse(example.stdout)).toHaveProperty('measures');
    // Its default form writes the schemas into the checkout: --check compares them instead.
    await row('aiot contracts generate [--check]', ['contracts', 'generate', '--check']);
    const diff = await row('aiot contracts diff <from> <to> [--format table|json]', [
      'contracts',
      'diff',
      'pump.telemetry@1',
      'pump.telemetry@2',
    ]);
    expect(diff.stdout).toContain('compatible');
    await row('aiot usecase check', ['usecase', 'check']);
    const certs = await row('aiot certs device <thing>', inData('certs', 'device', 'readme-device'));
    expect(certs.stdout).toContain('readme-device.crt');
  });

  it('GIVEN CSV files THEN the model trains, scores and serves as the container does', async () => {
    const model = path.join(work, 'model');
    const train = await row('aiot model train --train <dir> --model-dir <dir>', [
      'model',
      'train',
      '--train',
      path.join(work, 'train'),
      '--model-dir',
      model,
    ]);
    expect(train.stdout).toContain('"rows"');
    const score = await row('aiot model score --model-dir <dir> --input <csv> [--calibration-rows <n>]', [
      'model',
      'score',
      '--model-dir',
      model,
      '--input',
      path.join(work, 'train', 'pump.csv'),
    ]);
    expect(score.stdout.trim().split('\n')).toHaveLength(600);
    const serve = await row(
      'aiot model serve --model-dir <dir> --port <n>',
      ['model', 'serve', '--model-dir', model, '--port', '0'],
      {
        stopWhen: async (stdout) => {
          const url = /on (http:\/\/[^ ]+)/.exec(stdout)?.[1];
          if (!url) return false;
          const ping = await fetch(`${url}/ping`).catch(() => undefined);
          return ping?.status === 200;
        },
      },
    );
    expect(serve.stdout).toContain('serving model');
  });

  it('GIVEN a runtime with an open alert THEN reading and answering it works from the terminal', async () => {
    const alerts = 'aiot alerts list|show|ack|resolve|false-positive|confirm|undo';
    const list = await row(alerts, inData('alerts', 'list'));
    expect(list.stdout).toContain(alertId);
    expect(list.stdout).toMatch(/\d+ alerts?\n/);
    expect((await row(alerts, inData('alerts', 'show', alertId))).stdout).toContain('pump-readme');
    await row(alerts, inData('alerts', 'ack', alertId));
    await row(alerts, inData('alerts', 'false-positive', alertId, '--reason', 'sensor-fault'));
    await row(alerts, inData('alerts', 'undo', alertId));
    await row(alerts, inData('alerts', 'resolve', alertId));
    const confirm = await row(
      alerts,
      inData('alerts', 'confirm', alertId, '--failure-mode', 'impeller wear'),
    );
    expect(confirm.stdout).toContain('confirmed');
    const silences = 'aiot alerts silence|silences';
    await row(
      silences,
      inData(
        'alerts',
        'silence',
        '--use-case',
        'pump-maintenance',
        '--device',
        'pump-readme',
        '--hours',
        '1',
        '--reason',
        'README check',
      ),
    );
    expect((await row(silences, inData('alerts', 'silences'))).stdout).toContain('pump-readme');
    await row(
      'aiot alerts replay --use-case <id> [--policy <file>]',
      inData('alerts', 'replay', '--use-case', 'pump-maintenance'),
    );
    const report = await row(
      'aiot alerts report [--hours <n>] [--positions <n>]',
      inData('alerts', 'report', '--hours', '24', '--format', 'json'),
    );
    // The demo alert, answered above, is in the day's load and is not stale.
    expect(JSON.parse(report.stdout)).toMatchObject({ alerts: 1, positions: 1, stale: [], truncated: false });
    expect(
      (await row('aiot alerts report [--hours <n>] [--positions <n>]', inData('alerts', 'report'))).stdout,
    ).toContain('per position per day');
    await row(
      'aiot query "<SQL>" [--format table|json]',
      inData('query', 'SELECT count(*) AS n FROM telemetry'),
    );
  });

  it('GIVEN the same runtime THEN devices, KPIs, drift, quarantine and the audit trail answer', async () => {
    const devices = 'aiot devices list|rebaseline';
    expect((await row(devices, inData('devices', 'list'))).stdout).toContain('pump-readme');
    await row(
      devices,
      inData(
        'devices',
        'rebaseline',
        '--use-case',
        'pump-maintenance',
        '--device',
        'pump-readme',
        '--reason',
        'README check',
      ),
    );
    const fleet = 'aiot devices allow|claim [--local]';
    await row(
      fleet,
      inData(
        'devices',
        'allow',
        '--local',
        '--serial',
        'SN-1',
        '--thing',
        'pump-new',
        '--use-case',
        'pump-maintenance',
        '--site',
        'plant-a',
      ),
    );
    await row(fleet, inData('devices', 'claim', '--local', 'factory', '--out', path.join(work, 'claim')));
    await row(
      'aiot kpi report [--use-case <id>] [--days <n>] [--format table|json|html] [--out <file>]',
      inData('kpi', 'report'),
    );
    await row('aiot drift check --use-case <id>', inData('drift', 'check', '--use-case', 'pump-maintenance'));
    await row(
      'aiot quarantine replay [--use-case <id>] [--since <iso>] [--reason-contains <text>]',
      inData('quarantine', 'replay'),
    );
    await row('aiot audit list [--since <iso>] [--actor <name>] [--kind <kind>]', inData('audit', 'list'));
    await row('aiot audit verify', inData('audit', 'verify'));
    await row(
      'aiot audit export --from <iso> --to <iso> [--out <dir>]',
      inData(
        'audit',
        'export',
        '--from',
        '2026-01-01T00:00Z',
        '--to',
        new Date(Date.now() + 60_000).toISOString(),
        '--out',
        path.join(work, 'evidence'),
      ),
    );
  });

  it('GIVEN stored readings THEN a candidate model is trained, approved by a second person, rolled back, and another rejected', async () => {
    const useCase = ['--use-case', 'pump-maintenance'];
    const retrain = await row(
      'aiot model retrain --use-case <id> [--days <n>] [--skab <dir>]',
      inData('model', 'retrain', ...useCase),
    );
    const version = /candidate (\S+) registered/.exec(retrain.stdout)?.[1] ?? '';
    expect(version).not.toBe('');
    await row('aiot model list --use-case <id>', inData('model', 'list', ...useCase));
    const decide = 'aiot model approve|reject --use-case <id> --version <v> --reason <text>';
    const second = ['--user', 'second-person'];
    await row(
      decide,
      inData('model', 'approve', ...useCase, '--version', version, '--reason', 'README check', ...second),
    );
    await row(
      'aiot model rollback --use-case <id> --reason <text>',
      inData('model', 'rollback', ...useCase, '--reason', 'README check'),
    );
    const again = await row(
      'aiot model retrain --use-case <id> [--days <n>] [--skab <dir>]',
      inData('model', 'retrain', ...useCase),
    );
    const other = /candidate (\S+) registered/.exec(again.stdout)?.[1] ?? '';
    await row(
      decide,
      inData('model', 'reject', ...useCase, '--version', other, '--reason', 'README check', ...second),
    );
  });

  it('GIVEN a running runtime THEN the edge agent takes the JSON line docs/edge.md shows, on stdin', async () => {
    // The example as the docs write it: a reading of measures alone, stamped on arrival.
    const docs = readFileSync(path.join(ROOT, 'docs', 'edge.md'), 'utf8');
    const line = /^echo '(\{[^']+\})'/m.exec(docs)?.[1];
    expect(line).toBeDefined();
    const edge = await row(
      'aiot edge --thing <thing> --source <kind> [flags]',
      ['edge', '--thing', 'pump-stdin', '--source', 'stdin', '--certs-dir', path.join(dataDir, 'certs')],
      { input: `${line ?? ''}\n${line ?? ''}\n` },
    );
    // Two lines in the same millisecond are two readings; nothing refused.
    expect(edge.stdout).toMatch(/sent 2 in \d+ messages?.*rejected 0/);
    expect(edge.stderr).not.toContain('refused');
  });

  it('GIVEN a separate data folder THEN start runs for a while and stops by itself', async () => {
    const folder = path.join(work, 'start');
    const start = await row('aiot start [flags]', [
      'start',
      '--devices',
      '1',
      '--duration',
      '5',
      ...['--mqtt-port', '0', '--api-port', '0', '--console-port', '0', '--data-dir', folder],
    ]);
    expect(start.stdout).toContain('stored');
  });

  it('GIVEN every README row THEN each ran here, but the cloud ones', () => {
    // Tested against aws-sdk-client-mock in test/bin/device-registration.test.ts: no test calls AWS.
    const cloud = 'aiot devices register|revoke|list --cloud';
    const rows = readmeCommands();
    expect(rows).toContain(cloud);
    expect(rows.filter((command) => command !== cloud).sort()).toEqual([...ran.keys()].sort());
  });
});
