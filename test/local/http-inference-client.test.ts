import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureOf } from '../support/failures.ts';
import { scoreReadings, trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { HttpInferenceClient } from '../../local/scoring/http-inference-client.ts';
import { startModelServer, type ModelServer } from '../../model/serve.ts';

const random = seededRandom(1);
const rows = Array.from({ length: 200 }, () => [1 + 0.1 * gaussian(random), 5 + 0.2 * gaussian(random)]);
const model = trainAnomalyModel({ sensors: ['a', 'b'], rows }, { modelVersion: 'local-test' });
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer(model, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await server.close();
});

describe('HttpInferenceClient', () => {
  it('scores a window on the local model server, as the model does in process', async () => {
    const client = new HttpInferenceClient(`http://127.0.0.1:${server.port}`);
    const result = await client.invoke({ sensors: ['a', 'b'], rows: rows.slice(0, 80), scoreFrom: 70 }, 2000);
    expect(result.modelVersion).toBe('local-test');
    // The readings from scoreFrom on, as the model scores them in process.
    expect(result.results.map((r) => r.score)).toEqual(
      scoreReadings(model, { sensors: ['a', 'b'], rows: rows.slice(0, 80) }, 70).map((r) => r.score),
    );
  });

  it('GIVEN the windows of three devices in one call, one of them malformed and one with a baseline of another model THEN each gets its own answer: two scored as alone, one refusal each', async () => {
    const client = new HttpInferenceClient(`http://127.0.0.1:${server.port}`);
    const good = { sensors: ['a', 'b'], rows: rows.slice(0, 80), scoreFrom: 70 };
    const calibrated = await client.invoke(
      { sensors: ['a', 'b'], rows: rows.slice(0, 100), scoreFrom: 100, calibrate: true },
      2000,
    );
    if (!calibrated.baseline) throw new Error('no baseline calibrated');
    const stale = {
      ...good,
      baseline: { ...calibrated.baseline, modelVersion: 'older' },
      ageSeconds: new Array<number>(80).fill(0),
    };

    const answers = await client.invokeBatch(
      [good, { sensors: ['a'], rows: [[1]], scoreFrom: 0 }, stale, good],
      2000,
    );

    expect(answers).toHaveLength(4);
    expect(answers[0]).toEqual(await client.invoke(good, 2000));
    expect(answers[3]).toEqual(answers[0]);
    expect(answers[1]).toMatchObject({ retryable: false, endpointUnhealthy: false });
    expect((answers[1] as Error).message).toContain('windows[1]');
    expect(answers[2]).toMatchObject({ retryable: false, code: 'baseline-stale' });
  });

  it('GIVEN a batch that is not a list of windows, or too long THEN the whole call is refused, saying why', async () => {
    const client = new HttpInferenceClient(`http://127.0.0.1:${server.port}`);
    const tooMany = Array.from({ length: 1001 }, () => ({
      sensors: ['a', 'b'],
      rows: [[1, 5]],
      scoreFrom: 0,
    }));
    const failure = await failureOf(client.invokeBatch(tooMany, 5000));
    expect(failure.message).toContain('1 to 1000 windows');
    expect(failure.retryable).toBe(false);
  });

  it('reports a refused request as not retryable and a server that is gone as retryable', async () => {
    const client = new HttpInferenceClient(`http://127.0.0.1:${server.port}`);
    expect(
      (await failureOf(client.invoke({ sensors: ['a'], rows: [[1]], scoreFrom: 0 }, 2000))).retryable,
    ).toBe(false);
    const gone = new HttpInferenceClient('http://127.0.0.1:1');
    expect(
      (await failureOf(gone.invoke({ sensors: ['a', 'b'], rows: [[1, 5]], scoreFrom: 0 }, 2000))).retryable,
    ).toBe(true);
  });

  it('turns a cut-off or non-JSON answer into a retryable failure of the endpoint', async () => {
    const broken = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('<html>proxy error</html>');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const client = new HttpInferenceClient(`http://127.0.0.1:${(broken.address() as AddressInfo).port}`);
    const failure = await failureOf(
      client.invoke({ sensors: ['a', 'b'], rows: [[1, 5]], scoreFrom: 0 }, 2000),
    );
    expect(failure.message).toContain('answered a body that is not JSON');
    expect(failure).toMatchObject({ retryable: true, endpointUnhealthy: true });
    broken.closeAllConnections();
    broken.close();
  });

  it('gives up when the server does not answer in time', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new HttpInferenceClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    const failure = await failureOf(
      client.invoke({ sensors: ['a', 'b'], rows: [[1, 5]], scoreFrom: 0 }, 100),
    );
    expect(failure.retryable).toBe(true);
    silent.closeAllConnections();
    silent.close();
  });
});
