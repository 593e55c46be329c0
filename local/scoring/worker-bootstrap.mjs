// A worker thread starts without the parent's TypeScript loader: register tsx, then load the
// worker's own module (`workerData.entry`).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
