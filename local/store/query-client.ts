import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDbStore, type QueryResult } from './duckdb-store.ts';
import { SQL_CONTENT_TYPE } from '../http/runtime-api.ts';
import { DATABASE_FILE, readRuntimeFile } from '../runtime/data-dir.ts';

/** Runs SQL against the local store: through the running runtime if there is one, else on the file. */
export async function queryLocalStore(dataDir: string, sql: string): Promise<QueryResult> {
  const running = readRuntimeFile(dataDir);
  if (running) {
    const response = await fetch(`http://127.0.0.1:${running.apiPort}/query`, {
      method: 'POST',
      headers: { 'content-type': SQL_CONTENT_TYPE },
      body: sql,
    });
    const body = (await response.json()) as QueryResult | { error: string };
    if ('error' in body) throw new Error(body.error);
    return body;
  }
  const file = path.join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) {
    throw new Error(`no local store at ${file}: run "npm start" first (or pass --data-dir)`);
  }
  const store = await DuckDbStore.open(file, { readOnly: true });
  try {
    return await store.query(sql);
  } finally {
    await store.close();
  }
}
