import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../core/audit/chain.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { aiot } from '../support/cli.ts';

let dataDir: string;
let runtime: LocalRuntime | undefined;

const start = () =>
  LocalRuntime.start({
    ...loadCatalog(),
    actor: { name: 'rosa', role: 'ml-engineer' },
    dataDir,
    mqttPort: 0,
    apiPort: 0,
    modelPort: 0,
    batchWindowMs: 20,
  });

async function listed(...flags: string[]): Promise<AuditEntry[]> {
  const run = await aiot(['audit', 'list', '--data-dir', dataDir, '--format', 'json', ...flags]);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as AuditEntry[];
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-audit-e2e-'));
  runtime = await start();
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the audit trail of the local runtime', () => {
  it('GIVEN a first start THEN the contracts, the manifest and the trained model are recorded; a restart with the same files adds nothing', async () => {
    const entries = await listed();
    expect(
      entries.map((e) => [
        e.kind,
        e.subject.replace(/ (hvac-energy|pump-maintenance)-simulated-.*$/, ''),
        e.actor.name,
      ]),
    ).toEqual([
      ['contract-applied', 'contract hvac.telemetry@1', 'rosa'],
      ['contract-applied', 'contract pump.telemetry@1', 'rosa'],
      ['contract-applied', 'contract pump.telemetry@2', 'rosa'],
      ['manifest-applied', 'manifest hvac-energy', 'rosa'],
      ['alert-policy-changed', 'alert policy hvac-energy', 'rosa'],
      ['manifest-applied', 'manifest pump-maintenance', 'rosa'],
      ['alert-policy-changed', 'alert policy pump-maintenance', 'rosa'],
      ['model-trained', 'model hvac-energy', 'aiot-pipeline'],
      ['model-trained', 'model pump-maintenance', 'aiot-pipeline'],
    ]);
    await runtime?.stop();
    runtime = await start();
    expect(await listed()).toHaveLength(9);
  }, 120_000);

  it('GIVEN people change things through the CLI THEN each change is listed with who, in which role, and why', async () => {
    const silence = await aiot([
      'alerts',
      'silence',
      '--use-case',
      'pump-maintenance',
      '--device',
      'pump-001',
      '--hours',
      '2',
      '--reason',
      'seal change',
      '--user',
      'dana',
      '--role',
      'reliability-engineer',
      '--data-dir',
      dataDir,
    ]);
    expect(silence.code).toBe(0);
    const rebaseline = await aiot([
      'devices',
      'rebaseline',
      '--use-case',
      'pump-maintenance',
      '--device',
      'pump-001',
      '--reason',
      'new impeller',
      '--user',
      'dana',
      '--role',
      'reliability-engineer',
      '--data-dir',
      dataDir,
    ]);
    expect(rebaseline.code).toBe(0);
    const refused = await aiot([
      'devices',
      'rebaseline',
      '--use-case',
      'pump-maintenance',
      '--device',
      'pump-001',
      '--reason',
      'why not',
      '--user',
      'olu',
      '--role',
      'operator',
      '--data-dir',
      dataDir,
    ]);
    expect(refused.code).not.toBe(0);

    const byDana = await listed('--actor', 'dana');
    expect(byDana.map((e) => [e.kind, e.actor.role, e.reason])).toEqual([
      ['silence-set', 'reliability-engineer', 'seal change'],
      ['device-rebaselined', 'reliability-engineer', 'new impeller'],
    ]);
    expect(await listed('--actor', 'olu')).toEqual([]);
    // pump-001 never reported here: no state before, a calibration after.
    expect((await listed('--kind', 'device-rebaselined'))[0]).toMatchObject({
      before: null,
      after: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
  }, 120_000);

  it('GIVEN the log THEN verify passes, an export writes the evidence, and an edit is named by verify', async () => {
    const verified = await aiot(['audit', 'verify', '--data-dir', dataDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/intact, 11 entries/);

    const out = path.join(dataDir, 'evidence');
    const exported = await aiot([
      'audit',
      'export',
      '--from',
      '2020-01-01T00:00Z',
      '--to',
      '2100-01-01T00:00Z',
      '--out',
      out,
      '--data-dir',
      dataDir,
    ]);
    expect(exported.code).toBe(0);
    const evidence = JSON.parse(readFileSync(path.join(out, 'evidence.json'), 'utf8')) as {
      chain: { intact: boolean };
      entries: unknown[];
    };
    expect(evidence.chain.intact).toBe(true);
    expect(evidence.entries).toHaveLength(11);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain(
      '| dana | reliability-engineer | 2 |',
    );

    // WHEN someone edits the reason of the silence in the file
    const file = path.join(dataDir, 'audit', 'audit.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8').replace('seal change', 'routine check'));
    const broken = await aiot(['audit', 'verify', '--data-dir', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('NOT INTACT (edited): entry 10 (line 10) was edited');
    const bad = await aiot(['audit', 'export', '--from', 'monday', '--to', 'friday', '--data-dir', dataDir]);
    expect(bad.stderr).toContain('--from must be an ISO 8601 time');
    expect(existsSync(path.join(process.cwd(), 'audit-evidence'))).toBe(false);
  }, 120_000);
});
