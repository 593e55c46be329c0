import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Silence } from '../../core/alerts/ports.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { DynamoDbAlertStore } from '../../lambdas/adapters/dynamodb-alert-store.ts';
import { calibratingBaseline } from '../support/baselines.ts';
import { deployedFunction, deployedTemplate } from '../support/deployed-functions.ts';
import { startDynamoServer, type DynamoServer } from '../support/dynalite.ts';

/**
 * The alert table's conditional writes against a DynamoDB implementation (dynalite), on the table
 * as the template declares it and named as the ingest function's template environment names it:
 * what keeps several Lambda instances from losing a device's baseline update.
 */
const DEPLOYMENT = 'InfluxDB, trained models';
let server: DynamoServer;
let store: DynamoDbAlertStore;

beforeAll(async () => {
  server = await startDynamoServer();
  const table =
    deployedFunction(DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function').env.ALERT_TABLE ?? '';
  await server.createTable(deployedTemplate(DEPLOYMENT), table);
  store = new DynamoDbAlertStore(DynamoDBDocumentClient.from(server.client), table);
});

afterAll(async () => {
  await server.stop();
});

const baseline = (deviceId: string, revision: number, collected: number) =>
  calibratingBaseline('pump-maintenance', deviceId, collected, revision);

describe('DynamoDbAlertStore on a DynamoDB engine', () => {
  it('GIVEN two writers of one device WHEN both save the same revision THEN the second is refused and the first stays', async () => {
    expect(await store.save(baseline('pump-001', 1, 10))).toBe(true);
    // Another Lambda instance saw no device either and saves its own first revision.
    expect(await store.save(baseline('pump-001', 1, 99))).toBe(false);
    expect(await store.save(baseline('pump-001', 2, 20))).toBe(true);
    // A writer that read revision 1 and saves revision 2 after the other: refused, it must reread.
    expect(await store.save(baseline('pump-001', 2, 77))).toBe(false);

    expect((await store.get('pump-maintenance', 'pump-001'))?.calibration?.collected).toBe(20);
    expect((await store.get('pump-maintenance', 'pump-001'))?.revision).toBe(2);
  });

  it("GIVEN baselines of several devices THEN the use case's index lists each once, at its last revision", async () => {
    await store.save(baseline('pump-002', 1, 5));
    const listed = await store.list('pump-maintenance');
    expect(listed.map((s) => [s.deviceId, s.revision]).sort()).toEqual([
      ['pump-001', 2],
      ['pump-002', 1],
    ]);
    expect(await store.list('hvac-energy')).toEqual([]);
  });

  it('GIVEN a silence WHEN the same one is added again THEN the engine refuses it; silences are found by the time they cover', async () => {
    const silence: Silence = {
      id: 's-1',
      useCase: 'pump-maintenance',
      scope: { kind: 'device', deviceId: 'pump-001' },
      kind: 'maintenance',
      from: 1000,
      to: 5000,
      reason: 'seal change',
      createdBy: SYSTEM,
      createdAt: 900,
    };
    await store.addSilence(silence);
    await expect(store.addSilence(silence)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await store.silences('pump-maintenance', 2000)).map((s) => s.id)).toEqual(['s-1']);
    expect(await store.silences('pump-maintenance', 6000)).toEqual([]);
  });
});
