import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { LocalRuntime } from '../../local/runtime/runtime.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { aiot, listedRegistry } from '../support/cli.ts';
import { normal, PUMP_CALIBRATION, TestPump, worn } from '../support/pump.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

/**
 * "A one-tap false positive triggers fine-tuning", on one machine: an operator's false-positive
 * answer (the console's request to the operators' API) makes the runtime train a candidate by
 * itself, compare it with the live model and register it pending a person's approval.
 */
const USE_CASE = 'pump-maintenance';
const DEVICE = 'pump-fine-tune';
// The pump's calibration, a minute of normal running and four of wear, ten minutes back.
const START = Date.now() - (PUMP_CALIBRATION + 300 + 600) * 1000;
let runtime: LocalRuntime;
let dataDir: string;
let stopRuntime: () => Promise<void>;
const candidates: string[] = [];

beforeAll(async () => {
  const catalog = loadCatalog();
  // One verdict is enough here (the shipped default waits for three, or a day).
  const useCases = catalog.useCases.map((useCase) =>
    useCase.id === USE_CASE && useCase.model
      ? { ...useCase, model: { ...useCase.model, fineTune: { ...useCase.model.fineTune, afterVerdicts: 1 } } }
      : useCase,
  );
  ({
    runtime,
    dataDir,
    stop: stopRuntime,
  } = await startTestRuntime('aiot-fine-tune-', {
    useCases,
    fineTuneCheckMs: 200,
    onCandidate: (_useCase, version) => candidates.push(version),
  }));
}, 120_000);

afterAll(() => stopRuntime());

const registryOf = () => listedRegistry(dataDir, USE_CASE);

describe('fine-tuning started by a false positive', () => {
  it('GIVEN an alert an operator calls a false positive THEN a candidate is trained by the system, compared with the live model and left pending, and the live model keeps scoring', async () => {
    const live = runtime.scoringOf(USE_CASE)?.model.modelVersion;
    const pump = new TestPump(runtime, DEVICE, 401, START);
    await pump.publish(PUMP_CALIBRATION + 60, normal);
    await pump.publish(240, worn);
    const alert = await waitFor(
      'an alert on the pump',
      async () =>
        (await callRuntime<{ alerts: Alert[] }>(dataDir, 'GET', `/alerts?device=${DEVICE}`)).alerts[0],
      // A calibration's readings scored on a machine running other test files beside this one.
      60_000,
    );
    // No verdict yet: nothing trains.
    await runtime.fineTuneNow();
    expect((await registryOf()).versions.filter((v) => v.status === 'pending')).toEqual([]);

    // WHEN an operator taps "false positive" (the console's request)
    await callRuntime(dataDir, 'POST', `/alerts/${encodeURIComponent(alert.id)}/decisions`, {
      actor: { name: 'olu', role: 'operator' },
      decision: { action: 'false-positive', reason: 'normal-operation', note: 'a planned flow test' },
    });

    // THEN a candidate appears by itself, pending, trained by the system, with its comparison
    const candidate = await waitFor(
      'a pending candidate',
      async () => (await registryOf()).versions.find((v) => v.status === 'pending'),
      60_000,
    );
    expect(candidates).toEqual([candidate.version]);
    expect(candidate).toMatchObject({
      trainedBy: { name: 'aiot-pipeline', role: 'system' },
      metrics: {
        verdicts: 1,
        normalFlaggedShare: expect.any(Number) as unknown,
        liveNormalFlaggedShare: expect.any(Number) as unknown,
      },
    });
    // The window the operator judged normal: the live model flagged it, which is why it was asked.
    expect(candidate.metrics.liveNormalFlaggedShare).toBeGreaterThan(0);
    // The console's use-case page lists it, pending, with its comparison in words.
    const page = await callRuntime<{
      models: { version: string; status: string; comparison: string | null }[];
    }>(dataDir, 'GET', `/use-cases/${USE_CASE}`);
    expect(page.models[0]).toMatchObject({ version: candidate.version, status: 'pending' });
    expect(page.models[0]?.comparison).toMatch(/^held-out normal windows flagged: live \d/);
    expect(page.models.find((m) => m.version === live)?.status).toBe('live');
    const registry = await registryOf();
    expect(registry.live).toBe(live);
    expect(runtime.scoringOf(USE_CASE)?.model.modelVersion).toBe(live);

    // The audit trail says who trained it and why.
    const audit = await aiot([
      'audit',
      'list',
      '--kind',
      'model-trained',
      '--format',
      'json',
      '--data-dir',
      dataDir,
    ]);
    const events = JSON.parse(audit.stdout) as { actor: { role: string }; reason: string; subject: string }[];
    expect(events.find((e) => e.subject.includes(candidate.version))).toMatchObject({
      actor: { role: 'system' },
      reason: 'fine-tuned by itself after 1 false-positive verdict since the last candidate',
    });

    // A later check with no new verdict trains nothing more.
    await runtime.fineTuneNow();
    expect((await registryOf()).versions.filter((v) => v.status === 'pending')).toHaveLength(1);
  }, 120_000);
});
