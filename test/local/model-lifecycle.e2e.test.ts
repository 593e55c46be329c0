import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../core/audit/chain.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { aiot, listedRegistry } from '../support/cli.ts';
import { normal, TestPump } from '../support/pump.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

const USE_CASE = 'pump-maintenance';
let dataDir: string;
let runtime: LocalRuntime;
const changes: string[] = [];

const as = (user: string, role: string) => ['--user', user, '--role', role, '--data-dir', dataDir];

/** Waits until the newest inference of `device` was made by `modelVersion`. */
function scoredWith(pump: TestPump, modelVersion: string) {
  return waitFor(`${pump.deviceId} scored by ${modelVersion}`, async () => {
    await pump.publish(5, normal);
    const { rows } = await runtime.store.query(
      `SELECT model_version FROM inferences WHERE device_id = '${pump.deviceId}' ORDER BY time DESC LIMIT 1`,
    );
    return rows[0]?.model_version === modelVersion ? modelVersion : undefined;
  });
}

let stopRuntime: () => Promise<void>;

beforeAll(async () => {
  ({
    runtime,
    dataDir,
    stop: stopRuntime,
  } = await startTestRuntime('aiot-model-lifecycle-', {
    onModelChange: (_useCase, version) => changes.push(version),
  }));
}, 120_000);

afterAll(() => stopRuntime());

describe('a model promoted by a person, and rolled back', () => {
  it('GIVEN a retrained candidate THEN its trainer may not approve it, a second person does, the runtime scores with it at once, a rollback restores the old one, and the audit trail shows each step with its actor', async () => {
    const original = runtime.scoringOf('pump-maintenance')?.model.modelVersion ?? '';
    // GIVEN two pumps' readings of the last half hour in the store
    const pumps = [
      new TestPump(runtime, 'pump-201', 21, Date.now() - 1800_000),
      new TestPump(runtime, 'pump-202', 22, Date.now() - 1800_000),
    ];
    // Each pump at most 100 publishes a second on its connection, as IoT Core takes them: side by side.
    await Promise.all(pumps.map((pump) => pump.publish(1200, normal)));
    // Stored and scored: no backlog of old windows delays the scores the steps below wait for.
    await waitFor(
      '2400 stored and scored readings',
      async () => {
        const { rows } = await runtime.store.query(
          'SELECT (SELECT count(*) FROM telemetry)::INTEGER AS stored, (SELECT count(*) FROM inferences)::INTEGER AS scored',
        );
        return rows[0]?.stored === 2400 && rows[0].scored === 2400 ? true : undefined;
      },
      60_000,
    );

    // WHEN rosa retrains: a pending candidate, trained by her
    const retrain = await aiot(
      ['model', 'retrain', '--use-case', USE_CASE, '--days', '1', ...as('rosa', 'ml-engineer')],
      {
        timeoutMs: 120_000,
      },
    );
    expect(retrain.stderr).toBe('');
    const registry = await listedRegistry(dataDir, USE_CASE);
    const candidate = registry.versions.find((v) => v.status === 'pending');
    expect(candidate).toMatchObject({
      trainedBy: { name: 'rosa' },
      card: { inputs: expect.any(Array) as unknown },
    });
    expect(registry.live).toBe(original);
    const version = candidate?.version ?? '';

    // THEN she may not approve it herself
    const own = await aiot([
      'model',
      'approve',
      '--use-case',
      USE_CASE,
      '--version',
      version,
      '--reason',
      'mine',
      ...as('rosa', 'ml-engineer'),
    ]);
    expect(own.code).not.toBe(0);
    expect(own.stderr).toContain(
      `rosa trained ${version} and may not also approve it: another person must (four eyes)`,
    );

    // WHEN dana approves it THEN the running runtime scores with it, without a restart
    const approved = await aiot([
      'model',
      'approve',
      '--use-case',
      USE_CASE,
      '--version',
      version,
      '--reason',
      'fewer false alarms',
      ...as('dana', 'reliability-engineer'),
    ]);
    expect(approved.stdout).toContain(`live model ${version}`);
    const [pump] = pumps;
    if (!pump) throw new Error('no pump');
    expect(await scoredWith(pump, version)).toBe(version);

    // WHEN dana rolls it back THEN the original scores again
    const rolledBack = await aiot([
      'model',
      'rollback',
      '--use-case',
      USE_CASE,
      '--reason',
      'alerts doubled',
      ...as('dana', 'reliability-engineer'),
    ]);
    expect(rolledBack.code).toBe(0);
    expect(await scoredWith(pump, original)).toBe(original);
    expect(changes).toEqual([version, original]);

    // AND the audit trail has each step with its actor
    const audit = await aiot(['audit', 'list', '--format', 'json', '--data-dir', dataDir]);
    const steps = (JSON.parse(audit.stdout) as AuditEntry[])
      .filter((e) => e.kind.startsWith('model-') && e.subject.includes('candidate'))
      .map((e) => [e.kind, e.actor.name, e.reason]);
    expect(steps).toEqual([
      ['model-trained', 'rosa', 'trained as a candidate'],
      ['model-approved', 'dana', 'fewer false alarms'],
      ['model-deployed', 'dana', 'fewer false alarms'],
      ['model-rolled-back', 'dana', 'alerts doubled'],
    ]);
    expect((await aiot(['audit', 'verify', '--data-dir', dataDir])).code).toBe(0);
  }, 300_000);
});
