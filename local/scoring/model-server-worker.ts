import { parentPort, workerData } from 'node:worker_threads';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import { startModelServer } from '../../model/serve.ts';
import type { ToModelServer, FromModelServer, ModelServerWorkerData } from './model-server-thread.ts';

/*
 * The worker side of `startModelServerThread`: the container's server, on a thread of its own.
 */
const port = parentPort;
if (!port) throw new Error('model-server-worker.ts runs as a worker thread only');
const data = workerData as ModelServerWorkerData;
let model: AnomalyModel = data.model;
const post = (message: FromModelServer) => {
  port.postMessage(message);
};

try {
  const server = await startModelServer(() => model, { port: data.port, host: data.host });
  port.on('message', (message: ToModelServer) => {
    if (message.kind === 'model') {
      model = message.model;
      post({ kind: 'model-set', modelVersion: model.modelVersion });
    } else
      void server.close().then(() => {
        post({ kind: 'closed' });
        port.close();
      });
  });
  post({ kind: 'listening', port: server.port });
} catch (error) {
  const failure = error as NodeJS.ErrnoException;
  post({ kind: 'failed', message: failure.message, ...(failure.code ? { code: failure.code } : {}) });
  port.close();
}
