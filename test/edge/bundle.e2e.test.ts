import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeBuildOptions } from '../../edge/build.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { waitFor } from '../support/wait.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let bundle: string;
let runtime: LocalRuntime;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-edge-bundle-'));
  // Built and run outside the repository: no node_modules to fall back on.
  bundle = path.join(dir, 'device', 'aiot-edge.mjs');
  await build(edgeBuildOptions(bundle));
  copyFileSync(
    path.join(REPO, 'usecases', 'pump-maintenance.yaml'),
    path.join(dir, 'device', 'pump-maintenance.yaml'),
  );
  // A device carries the contract files its use case accepts, in contracts/ beside the manifest.
  mkdirSync(path.join(dir, 'device', 'contracts'));
  for (const name of ['pump.telemetry.v1.yaml', 'pump.telemetry.v2.yaml']) {
    copyFileSync(path.join(REPO, 'contracts', name), path.join(dir, 'device', 'contracts', name));
  }
  runtime = await LocalRuntime.start({
    ...loadCatalog(),
    dataDir: path.join(dir, 'runtime'),
    mqttPort: 0,
    apiPort: 0,
    modelPort: false,
    batchWindowMs: 20,
  });
  await runtime.ca.devicePair('pump-bundled');
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run build:edge', () => {
  it('produces one file that runs the agent with plain node, from any folder', async () => {
    // GIVEN the bundle alone in a folder with the manifest
    // WHEN it replays 25 simulated readings to the local broker
    const { stdout } = await run(
      process.execPath,
      [
        bundle,
        '--thing',
        'pump-bundled',
        '--source',
        'simulator',
        '--endpoint',
        runtime.mqttUrl,
        '--manifest',
        'pump-maintenance.yaml',
        '--certs-dir',
        path.join(dir, 'runtime', 'certs'),
        '--data-dir',
        'state',
        '--rate',
        '50',
        '--count',
        '25',
        '--status',
        'json',
        '--status-interval',
        '60',
      ],
      { cwd: path.join(dir, 'device') },
    );
    // THEN its final status says all 25 were acknowledged, and the store has them
    const final = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(final).toMatchObject({ sent: 25, queueDepth: 0, rejected: 0, dropped: 0 });
    // The broker acknowledged them; ingestion follows in its own time (one batch window on an idle machine).
    const stored = await waitFor('25 readings of pump-bundled in the store', async () => {
      const { rows } = await runtime.store.query(
        "SELECT count(*)::INTEGER AS n, min(origin) AS origin, min(contract) AS contract FROM telemetry WHERE device_id = 'pump-bundled'",
      );
      return rows[0]?.n === 25 ? rows[0] : undefined;
    });
    // Simulated readings say so, all the way into the store, and each keeps its contract version.
    expect(stored).toEqual({ n: 25, origin: 'simulated', contract: 'pump.telemetry@2' });
  });

  it('sends the older version a gateway still speaks, and names a contract file it cannot find', async () => {
    await runtime.ca.devicePair('pump-older');
    const flags = (thing: string) => [
      bundle,
      '--thing',
      thing,
      '--source',
      'simulator',
      '--endpoint',
      runtime.mqttUrl,
      '--manifest',
      'pump-maintenance.yaml',
      '--certs-dir',
      path.join(dir, 'runtime', 'certs'),
      '--data-dir',
      `state-${thing}`,
      '--count',
      '5',
      '--rate',
      '50',
      '--status',
      'off',
    ];
    // GIVEN a gateway whose firmware still sends version 1, during the manifest's migration window
    await run(process.execPath, [...flags('pump-older'), '--contract', 'pump.telemetry@1'], {
      cwd: path.join(dir, 'device'),
    });
    // THEN its readings are accepted and stored as version 1
    const stored = await waitFor('5 version 1 readings of pump-older', async () => {
      const { rows } = await runtime.store.query(
        "SELECT count(*)::INTEGER AS n, min(contract) AS contract FROM telemetry WHERE device_id = 'pump-older'",
      );
      return rows[0]?.n === 5 ? rows[0] : undefined;
    });
    expect(stored).toEqual({ n: 5, contract: 'pump.telemetry@1' });
    // WHEN the contract files are not where the agent looks THEN it says which file and which flag
    const failure = await run(process.execPath, [...flags('pump-older'), '--contracts-dir', 'nowhere'], {
      cwd: path.join(dir, 'device'),
    }).then(
      () => undefined,
      (error: unknown) => error as { stderr: string; code: number },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /cannot read contract pump.telemetry@2 at nowhere\/pump.telemetry.v2.yaml \(no such file\): pass --contracts-dir/,
    );
    // AND a version the manifest does not accept is refused before anything is sent
    const refused = await run(process.execPath, [...flags('pump-older'), '--contract', 'pump.telemetry@7'], {
      cwd: path.join(dir, 'device'),
    }).then(
      () => undefined,
      (error: unknown) => error as { stderr: string; code: number },
    );
    expect(refused?.stderr).toContain(
      '--contract pump.telemetry@7 is not accepted by pump-maintenance (accepts pump.telemetry@2, pump.telemetry@1)',
    );
  });

  it('will not start without being told where readings come from', async () => {
    const failure = await run(process.execPath, [bundle, '--thing', 'x']).then(
      () => undefined,
      (error: unknown) => error as { stderr: string; code: number },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("required option '--source <kind>' not specified");
  });

  it('refuses the simulator against a broker that is not on this machine, unless told to', async () => {
    const failure = await run(process.execPath, [
      bundle,
      '--thing',
      'x',
      '--source',
      'simulator',
      '--endpoint',
      'mqtts://a1b2c3-ats.iot.eu-west-1.amazonaws.com:8883',
    ]).then(
      () => undefined,
      (error: unknown) => error as { stderr: string; code: number },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      '--source simulator publishes made-up readings; mqtts://a1b2c3-ats.iot.eu-west-1.amazonaws.com:8883 is not the local runtime. Pass --allow-simulator',
    );
  });

  it('explains a bad flag with the value it got', async () => {
    const failure = await run(process.execPath, [
      bundle,
      '--thing',
      'x',
      '--source',
      'stdin',
      '--fsync',
      'sometimes',
    ]).then(
      () => undefined,
      (error: unknown) => error as { stderr: string; code: number },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      '--fsync must be "always", "never" or milliseconds between syncs, got "sometimes"',
    );
  });
});
