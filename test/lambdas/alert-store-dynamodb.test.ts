import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyTrack } from '../../core/alerts/engine.ts';
import type { Silence, StoredTrack } from '../../core/alerts/ports.ts';
import { SYSTEM } from '../../core/operators/actor.ts';
import { DynamoDbAlertStore } from '../../lambdas/adapters/dynamodb-alert-store.ts';
import { HOLD_MS } from '../../lambdas/adapters/dynamodb-device-items.ts';
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
let table: string;

beforeAll(async () => {
  server = await startDynamoServer();
  table = deployedFunction(DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function').env.ALERT_TABLE ?? '';
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

  describe("a device's track, read with its baseline", () => {
    /** A store on its own client, which records the commands it sends, and a clock the test moves. */
    function counted(tracksWithBaseline = true) {
      // A client of its own: middleware added to a document client is its base client's.
      const documents = DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: server.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
      );
      const sent: string[] = [];
      documents.middlewareStack.add(
        (next, context) => (args) => {
          sent.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize' },
      );
      const clock = { now: 0 };
      const reader = new DynamoDbAlertStore(documents, table, {
        tracksWithBaseline,
        now: () => clock.now,
      });
      return { store: reader, sent, clock };
    }
    const track = (deviceId: string, revision: number): StoredTrack => ({
      ...emptyTrack('pump-maintenance', deviceId, 'pump-anomaly'),
      revision,
      outbox: [],
    });

    it('GIVEN a device with a baseline and a track WHEN its baseline is read and then its track THEN both came in one query', async () => {
      await store.save(baseline('pump-010', 1, 5));
      await store.saveTrack(track('pump-010', 1));
      const { store: reader, sent } = counted();

      const state = await reader.get('pump-maintenance', 'pump-010');
      const read = await reader.getTrack('pump-maintenance', 'pump-010', 'pump-anomaly');

      expect(state?.revision).toBe(1);
      expect(read?.revision).toBe(1);
      expect(sent).toEqual(['QueryCommand']);
    });

    it('GIVEN a store made without tracksWithBaseline (the console, drift, KPI functions) THEN each item is read on its own', async () => {
      const { store: reader, sent } = counted(false);

      await reader.get('pump-maintenance', 'pump-010');
      await reader.getTrack('pump-maintenance', 'pump-010', 'pump-anomaly');

      expect(sent).toEqual(['GetItemCommand', 'GetItemCommand']);
    });

    it('GIVEN a track handed over once WHEN it is asked for again THEN it is read from the table, with what was written since', async () => {
      await store.save(baseline('pump-011', 1, 5));
      await store.saveTrack(track('pump-011', 1));
      const { store: reader, sent } = counted();
      await reader.get('pump-maintenance', 'pump-011');
      const held = await reader.getTrack('pump-maintenance', 'pump-011', 'pump-anomaly');
      // Another instance moves the track on; the held one is stale and its save is refused.
      expect(await store.saveTrack(track('pump-011', 2))).toBe(true);
      expect(await reader.saveTrack({ ...track('pump-011', 1), revision: (held?.revision ?? 0) + 1 })).toBe(
        false,
      );

      const again = await reader.getTrack('pump-maintenance', 'pump-011', 'pump-anomaly');

      expect(again?.revision).toBe(2);
      expect(sent).toEqual(['QueryCommand', 'PutItemCommand', 'GetItemCommand']);
    });

    it('GIVEN a device without a track yet THEN none is handed over, and a held read goes stale after its hold', async () => {
      await store.save(baseline('pump-012', 1, 5));
      const { store: reader, sent, clock } = counted();
      await reader.get('pump-maintenance', 'pump-012');
      expect(await reader.getTrack('pump-maintenance', 'pump-012', 'pump-anomaly')).toBeUndefined();

      await reader.get('pump-maintenance', 'pump-012');
      await store.saveTrack(track('pump-012', 1));
      clock.now += HOLD_MS + 1;
      const late = await reader.getTrack('pump-maintenance', 'pump-012', 'pump-anomaly');

      expect(late?.revision).toBe(1);
      expect(sent).toEqual(['QueryCommand', 'QueryCommand', 'GetItemCommand']);
    });
  });
});
