import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trainAnomalyModel } from '../../core/model/anomaly-model.ts';
import { gaussian, seededRandom } from '../../core/simulation/random.ts';
import { startModelServerThread, type ThreadedModelServer } from '../../local/scoring/model-server-thread.ts';

function model(modelVersion: string) {
  const random = seededRandom(1);
  const rows = Array.from({ length: 500 }, () => [1 + 0.1 * gaussian(random), 5 + 0.2 * gaussian(random)]);
  return trainAnomalyModel({ sensors: ['a', 'b'], rows }, { modelVersion, params: { smoothingWindow: 5 } });
}

const servers: ThreadedModelServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function ping(port: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/ping`);
  return response.json();
}

describe('startModelServerThread', () => {
  it('GIVEN a model server on its thread WHEN a new model is set THEN requests after the change are served by it', async () => {
    const server = await startModelServerThread(model('m1'), { port: 0, host: '127.0.0.1' });
    servers.push(server);
    expect(await ping(server.port)).toEqual({ status: 'ok', modelVersion: 'm1' });
    await server.setModel(model('m2'));
    expect(await ping(server.port)).toEqual({ status: 'ok', modelVersion: 'm2' });
  });

  it('GIVEN a port in use WHEN the thread starts THEN it rejects with the listen error and its code', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      await expect(startModelServerThread(model('m1'), { port, host: '127.0.0.1' })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      holder.close();
    }
  });

  it('GIVEN a server closed WHEN its port is asked THEN nothing answers', async () => {
    const server = await startModelServerThread(model('m1'), { port: 0, host: '127.0.0.1' });
    await server.close();
    await expect(ping(server.port)).rejects.toThrow();
  });
});
