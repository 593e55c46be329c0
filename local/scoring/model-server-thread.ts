import { Worker } from 'node:worker_threads';
import type { AnomalyModel } from '../../core/model/anomaly-model.ts';
import type { ModelServer } from '../../model/serve.ts';

/** What the worker starts with. */
export interface ModelServerWorkerData {
  readonly entry: string;
  readonly model: AnomalyModel;
  readonly port: number;
  readonly host: string;
}

export type ToModelServer =
  { readonly kind: 'model'; readonly model: AnomalyModel } | { readonly kind: 'close' };

export type FromModelServer =
  | { readonly kind: 'listening'; readonly port: number }
  | { readonly kind: 'failed'; readonly message: string; readonly code?: string }
  | { readonly kind: 'model-set'; readonly modelVersion: string }
  | { readonly kind: 'closed' };

/** The model server on its own thread, which serves the model it was last given. */
export interface ThreadedModelServer extends ModelServer {
  /** Serves `model` from the next request on (an approved version, a rollback), once this resolves. */
  setModel(model: AnomalyModel): Promise<void>;
}

/**
 * Starts the container's model server (`model/serve.ts`) on a worker thread, as a container has CPU
 * of its own: parsing, checking and scoring the windows no longer share the runtime's one thread
 * with the broker, ingestion and the store. Rejects with the listen error (its `code` kept) when
 * the port cannot be had; `onError` hears of a thread that ends by itself.
 */
export function startModelServerThread(
  model: AnomalyModel,
  options: { port: number; host: string; onError?: (error: unknown) => void },
): Promise<ThreadedModelServer> {
  const data: ModelServerWorkerData = {
    entry: new URL('./model-server-worker.ts', import.meta.url).href,
    model,
    port: options.port,
    host: options.host,
  };
  const worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { workerData: data });
  let closing = false;
  return new Promise((resolve, reject) => {
    const started = (message: FromModelServer) => {
      if (message.kind === 'listening') {
        worker.off('message', started);
        resolve(handle(worker, message.port, () => (closing = true)));
      } else if (message.kind === 'failed') {
        reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
      }
    };
    worker.on('message', started);
    worker.once('error', (error) => {
      reject(error);
      if (!closing) options.onError?.(error);
    });
    worker.once('exit', (code) => {
      reject(new Error(`the model server thread ended with ${code} before it listened`));
      if (!closing && code !== 0) options.onError?.(new Error(`the model server thread ended with ${code}`));
    });
  });
}

function handle(worker: Worker, port: number, markClosing: () => void): ThreadedModelServer {
  const send = (message: ToModelServer) => {
    worker.postMessage(message);
  };
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  return {
    port,
    setModel: (model) =>
      new Promise<void>((resolve) => {
        const set = (message: FromModelServer) => {
          if (message.kind !== 'model-set' || message.modelVersion !== model.modelVersion) return;
          worker.off('message', set);
          resolve();
        };
        worker.on('message', set);
        send({ kind: 'model', model });
      }),
    // Once: a second close (the runtime's stop after a test closed it) waits for the same exit.
    close: () => {
      if (!closed) {
        markClosing();
        worker.on('message', (message: FromModelServer) => {
          if (message.kind === 'closed') void worker.terminate();
        });
        send({ kind: 'close' });
        closed = exited;
      }
      return closed;
    },
  };
}
