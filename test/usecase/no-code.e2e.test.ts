import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineStack } from '../../lib/stacks/pipeline-stack.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { loadCatalog, type Catalog } from '../../usecases/catalog.ts';
import { testApp } from '../support/cdk.ts';
import { lastMondayBefore, sendSimulatedDevice } from '../support/simulated-device.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A use case is its files: a data contract and a manifest. Copied alone into an empty folder,
 * with no code of their own, they make a deployable stack and a running local pipeline.
 */
const REPO = path.join(import.meta.dirname, '..', '..');
let dir: string;
let catalog: Catalog;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiot-no-code-'));
  for (const [folder, file] of [
    ['contracts', 'hvac.telemetry.v1.yaml'],
    ['usecases', 'hvac-energy.yaml'],
  ] as const) {
    mkdirSync(path.join(dir, folder), { recursive: true });
    copyFileSync(path.join(REPO, folder, file), path.join(dir, folder, file));
  }
  catalog = loadCatalog({
    contractsDir: path.join(dir, 'contracts'),
    useCasesDir: path.join(dir, 'usecases'),
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a new use case from its files alone (hvac-energy)', () => {
  it('GIVEN only the contract and the manifest THEN the stack has its ingest rule, its tables, its model endpoint and its alerting', () => {
    expect(catalog.useCases.map((useCase) => useCase.id)).toEqual(['hvac-energy']);
    // As deployed once a model is trained (-c modelArtifact:hvac-energy=…): the endpoint serves it.
    const template = Template.fromStack(
      new PipelineStack(testApp(), 'NoCode', {
        ...catalog,
        modelArtifacts: { 'hvac-energy': 'models/hvac-energy/training-1/output/model.tar.gz' },
      }),
    );

    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: Match.stringLikeRegexp("FROM 'dt/hvac-energy/\\+/telemetry'"),
      }),
    });
    // Its readings get a bucket of their own in the store, kept as long as the manifest says.
    template.hasResourceProperties('Custom::AiotInfluxSetup', {
      Buckets: Match.arrayWith([{ name: 'hvac-energy', retentionSeconds: 1095 * 86_400 }]),
    });
    // The ingest function scores and alerts with the manifest's policy; alerts go to the use case's topic.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          USE_CASE: 'hvac-energy',
          ALERT_POLICY: Match.stringLikeRegexp('"anomalousReadings":6,"withinSeconds":1800'),
        }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'aiot hvac-energy alerts',
    });
    // The model: an endpoint sized by the manifest, scaled between 1 and 2 instances.
    template.hasResourceProperties('Custom::AiotModelEndpoint', {
      UseCase: 'hvac-energy',
      InstanceType: 'ml.c5.large',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 2,
    });
  });

  it('GIVEN the same files THEN the local runtime trains its model, stores and scores a simulated unit, and a schedule override at night opens an alert on it', async () => {
    const runtime = await LocalRuntime.start({
      ...catalog,
      dataDir: path.join(dir, 'runtime'),
      mqttPort: 0,
      apiPort: 0,
      modelPort: 0,
      batchWindowMs: 20,
    });
    try {
      const manifest = catalog.useCases[0];
      if (!manifest) throw new Error('no use case');
      const contract = catalog.contracts.get(manifest.contract);
      expect(runtime.scoringOf('hvac-energy')?.model.tracked.length).toBeGreaterThan(0);

      // From a Monday 06:00 at the site, a week back, for two days: on the Tuesday at 21:00, after
      // the unit's baseline has calibrated on a day and a night, someone overrides its schedule
      // and it runs all night in an empty building.
      const monday = lastMondayBefore(Date.now() - 7 * 86_400_000) + 5 * 3600_000;
      const faultAt = monday + 39 * 3600_000;
      const { thing, drained, status } = await sendSimulatedDevice(runtime, manifest, contract, {
        seed: 42,
        startAt: monday,
        stepMs: 10_000,
        count: (48 * 3600) / 10,
        rate: 2000,
        fault: { id: 'schedule-override', at: faultAt },
        dataDir: dir,
        firmware: '2.1.0',
        hardwareGeneration: 'ahu-b',
      });
      expect(drained).toBe(true);
      // The edge sent minute means, fewer where nothing moved (deadband).
      expect(status.sent).toBeGreaterThan(600);
      expect(status.sent).toBeLessThan((48 * 3600) / 60 + 1);

      const stored = await waitFor('every unit reading stored', async () => {
        const { rows } = await runtime.store.query(
          `SELECT count(*)::INTEGER AS n FROM telemetry WHERE use_case = 'hvac-energy' AND device_id = '${thing}'`,
        );
        return Number(rows[0]?.n) >= status.sent ? Number(rows[0]?.n) : undefined;
      });
      expect(stored).toBe(status.sent);
      const alert = await waitFor(
        'an alert on the unit',
        async () => {
          const { rows } = await runtime.store.query(
            `SELECT device_id, inference, epoch_ms(first_anomaly_at) AS first FROM alerts WHERE use_case = 'hvac-energy'`,
          );
          return rows[0];
        },
        60_000,
      );
      expect(alert).toMatchObject({ device_id: thing, inference: 'ahu-anomaly' });
      // Raised by the fault, not before it: a day and a night of normal operation flagged nothing.
      expect(Number(alert.first)).toBeGreaterThanOrEqual(faultAt);
      const { rows: before } = await runtime.store.query(
        `SELECT count(*)::INTEGER AS n FROM inferences WHERE use_case = 'hvac-energy' AND anomalous AND epoch_ms(time) < ${faultAt}`,
      );
      expect(before[0]?.n).toBe(0);
    } finally {
      await runtime.stop();
    }
  }, 180_000);
});
