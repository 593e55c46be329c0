import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { parseCsvTable } from '../../model/csv-table.ts';
import { invoke, loadModel } from '../../model/invocations.ts';
import { parseSummary } from '../../bin/cli/start-output.ts';
import { aiot } from '../support/cli.ts';
import { seedTrainedModels } from '../support/trained-models.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const dirs: string[] = [];

/** The figures of the summary table `aiot start` prints at the end; NaN for one it lacks. */
function summary(stdout: string) {
  const figures = parseSummary(stdout);
  const figure = (name: string) => figures[name] ?? NaN;
  return {
    messages: figure('messages'),
    acknowledged: figure('acknowledged'),
    stored: figure('stored'),
    duplicates: figure('duplicates'),
    quarantined: figure('quarantined'),
  };
}

/**
 * `aiot start` on free ports and its own data folder, so tests never collide with a running
 * pipeline; the folder holds the run's trained models, as after a first start.
 */
function startArgs(dataDir: string, ...flags: string[]): string[] {
  seedTrainedModels(dataDir);
  return [
    'start',
    ...flags,
    '--mqtt-port',
    '0',
    '--api-port',
    '0',
    '--model-port',
    '0',
    '--console-port',
    '0',
    '--data-dir',
    dataDir,
  ];
}

function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-cli-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('aiot CLI', () => {
  it('runs the pipeline for --duration, creates the certificates, and keeps every message', async () => {
    const dataDir = tempDataDir();
    const run = await aiot(startArgs(dataDir, '--devices', '3', '--rate', '5', '--duration', '3'));
    expect(run.code, run.stderr).toBe(0);
    const totals = summary(run.stdout);
    // Every reading the broker acknowledged to the pumps is stored (a resent one once).
    expect(totals.acknowledged).toBeGreaterThan(20);
    expect(totals.stored + totals.duplicates).toBe(totals.acknowledged);
    // Packed: fewer messages than readings.
    expect(totals.messages).toBeLessThan(totals.acknowledged);
    expect(totals.quarantined).toBe(0);
    expect(existsSync(path.join(dataDir, 'certs', 'ca.crt'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'certs', 'devices', 'pump-001.crt'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'certs', 'devices', 'pump-003.key'))).toBe(true);

    // After it stopped, aiot query reads the file directly.
    const query = await aiot([
      'query',
      "SELECT count(*) AS n, count(DISTINCT device_id) FILTER (WHERE device_id LIKE 'pump-%') AS pumps FROM telemetry",
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    expect(query.code, query.stderr).toBe(0);
    // Every stored reading, and pumps among them. (How many of the three got a pack out before the
    // stop depends on the machine: on a busy one a pump's TLS handshake can take most of the 3 s,
    // so the count is not asserted; that each acknowledged reading is kept is, above.)
    const [stored] = JSON.parse(query.stdout) as { n: number; pumps: number }[];
    expect(stored?.n).toBe(totals.stored);
    expect(stored?.pumps).toBeGreaterThanOrEqual(1);
  });

  it('stops cleanly on Ctrl-C with nothing buffered lost, even when the press arrives twice', async () => {
    const dataDir = tempDataDir();
    const run = await aiot(startArgs(dataDir, '--devices', '5', '--rate', '20'), {
      // Once the first readings are stored: the status line shows them.
      interruptWhen: /stored [1-9]/,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('stopping (Ctrl-C)');
    const totals = summary(run.stdout);
    expect(totals.acknowledged).toBeGreaterThan(50);
    expect(totals.stored + totals.duplicates).toBe(totals.acknowledged);
    const query = await aiot([
      'query',
      'SELECT count(*)::INTEGER AS n FROM telemetry',
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    expect(JSON.parse(query.stdout)).toEqual([{ n: totals.stored }]);
  });

  it('prints a contract example for a device, time and seq, and ends quietly when the reader closes the pipe', async () => {
    const example = await aiot([
      'contracts',
      'example',
      'pump.telemetry@1',
      '--device',
      'my-pump',
      '--seq',
      '7',
      '--timestamp',
      '2026-03-01T10:00:00Z',
    ]);
    expect(JSON.parse(example.stdout)).toMatchObject({
      deviceId: 'my-pump',
      seq: 7,
      timestamp: '2026-03-01T10:00:00.000Z',
    });
    const bad = await aiot(['contracts', 'example', 'pump.telemetry@1', '--timestamp', 'yesterday']);
    expect(bad.stderr).toContain('--timestamp must be "now" or an ISO 8601 time, got "yesterday"');

    // A reader that has seen enough closes the pipe: `aiot query ... | head -1` ends without a stack trace.
    const dataDir = tempDataDir();
    await (await DuckDbStore.open(path.join(dataDir, 'local.duckdb'))).close();
    const piped = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        'sh',
        [
          '-c',
          `"${process.execPath}" --import tsx bin/aiot.ts query "SELECT * FROM range(10000)" --data-dir "${dataDir}" | head -1 > /dev/null`,
        ],
        { cwd: ROOT },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('close', (code) => {
        resolve({ code, stderr });
      });
    });
    expect(piped.stderr).toBe('');
  });

  it('prints the port of the runtime running on the folder in the certs example', async () => {
    const dataDir = tempDataDir();
    const certs = await aiot(['certs', 'device', 'my-pump', '--data-dir', dataDir]);
    expect(certs.code, certs.stderr).toBe(0);
    expect(certs.stdout).toContain('-p 8883');
    expect(certs.stdout).toContain('port 8883 is the default of "aiot start"; none runs on');
  });

  it('runs no edge agent against a folder without a local CA, and names an unreadable credential', async () => {
    const dir = tempDataDir();
    const noCa = await aiot([
      'edge',
      '--thing',
      'x',
      '--source',
      'stdin',
      '--certs-dir',
      path.join(dir, 'certs'),
    ]);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toContain(`no local CA in ${path.join(dir, 'certs')}: start the runtime first`);
    // A second CA would make every connection fail: none was made.
    expect(existsSync(path.join(dir, 'certs', 'ca.crt'))).toBe(false);
    const missing = await aiot([
      'edge',
      '--thing',
      'x',
      '--source',
      'stdin',
      '--ca',
      path.join(dir, 'ca.pem'),
      '--cert',
      path.join(dir, 'x.crt'),
      '--key',
      path.join(dir, 'x.key'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `cannot read the CA certificate at ${path.join(dir, 'ca.pem')} (no such file)`,
    );
  });

  it('explains a bad flag and a missing store', async () => {
    const badFlag = await aiot(['start', '--devices', 'many']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toContain('--devices must be a whole number from 0 to 10000, got "many"');
    const noStore = await aiot(['query', 'SELECT 1', '--data-dir', tempDataDir()]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/no local store at .*local\.duckdb: run "npm start" first/);
  });

  it('names the busy port and the flag to change, and exits', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = await aiot(
        [
          'start',
          '--mqtt-port',
          String(port),
          '--api-port',
          '0',
          '--model-port',
          '0',
          '--console-port',
          '0',
          '--data-dir',
          tempDataDir(),
        ],
        {
          timeoutMs: 30_000,
        },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `port ${port} on 127.0.0.1 is already in use: stop what holds it or pass --mqtt-port`,
      );
    } finally {
      blocker.close();
    }
  });

  it('trains a model and scores a CSV through the /invocations code path, one line per row', async () => {
    const dir = tempDataDir();
    const lines = (rows: number, seed: number, shift: number) => {
      const random = seededRandom(seed);
      const body = Array.from({ length: rows }, (_, i) => {
        const load = gaussian(random);
        return `${0.03 + 0.002 * gaussian(random) + (i >= rows / 2 ? shift : 0)},${1.3 + 0.05 * load},${32 + 0.8 * load + 0.3 * gaussian(random)}`;
      });
      return `vibration,current,flow\n${body.join('\n')}\n`;
    };
    mkdirSync(path.join(dir, 'train'));
    writeFileSync(path.join(dir, 'train', 'normal.csv'), lines(400, 1, 0));
    writeFileSync(path.join(dir, 'input.csv'), lines(200, 2, 0.05));
    const train = await aiot([
      'model',
      'train',
      '--train',
      path.join(dir, 'train'),
      '--model-dir',
      path.join(dir, 'model'),
    ]);
    expect(train.code, train.stderr).toBe(0);
    const score = (input: string, ...options: string[]) =>
      aiot([
        'model',
        'score',
        '--model-dir',
        path.join(dir, 'model'),
        '--input',
        path.join(dir, input),
        ...options,
      ]);
    const scored = await score('input.csv');
    expect(scored.code, scored.stderr).toBe(0);
    const printed = scored.stdout.trim().split('\n');
    expect(printed).toHaveLength(200);
    const model = loadModel(path.join(dir, 'model'));
    const table = parseCsvTable(readFileSync(path.join(dir, 'input.csv'), 'utf8'), 'input.csv');
    const expected = invoke(model, { sensors: table.sensors, rows: table.rows }).results;
    expect(printed).toEqual(expected.map((r) => `${r.score.toFixed(6)},${r.anomalous ? 1 : 0}`));
    expect(printed.some((line) => line.endsWith(',1'))).toBe(true);

    // As one device from its commissioning: the first rows calibrate its baseline and carry no flag.
    writeFileSync(path.join(dir, 'device.csv'), lines(600, 3, 0.05));
    const device = await score('device.csv', '--calibration-rows', '200');
    expect(device.code, device.stderr).toBe(0);
    const flags = device.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(',')[1]);
    expect(flags).toHaveLength(600);
    expect(flags.slice(0, 200).every((flag) => flag === '0')).toBe(true);
    // The shift starts at row 300: none flagged before it, most after.
    expect(flags.slice(200, 300).includes('1')).toBe(false);
    expect(flags.slice(360).filter((flag) => flag === '1').length).toBeGreaterThan(200);
    expect(device.stderr).toMatch(/^calibrated on rows 1-200; \d+ of 400 rows after it flagged/);
    const tooShort = await score('input.csv', '--calibration-rows', '200');
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toContain('has 200 rows: nothing is left after 200 calibration rows');
  });

  it('prints a valid contract example and checks the manifests', async () => {
    const example = await aiot(['contracts', 'example', 'pump.telemetry@1']);
    expect(JSON.parse(example.stdout)).toMatchObject({ contract: 'pump.telemetry', version: 1 });
    const check = await aiot(['usecase', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('2 manifests valid');
  });
});
