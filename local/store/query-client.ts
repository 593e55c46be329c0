import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDbStore } from './duckdb-store.ts';
import type { QueryResult } from './read-only-query.ts';
import { SQL_CONTENT_TYPE } from '../http/runtime-api.ts';
import { DATABASE_FILE, readRuntimeFile } from '../runtime/data-dir.ts';

export type StoreQuery = (sql: string) => Promise<QueryResult>;

function viaRuntime(apiPort: number): StoreQuery {
  return async (sql) => {
    const response = await fetch(`http://127.0.0.1:${apiPort}/query`, {
      method: 'POST',
      headers: { 'content-type': SQL_CONTENT_TYPE },
      body: sql,
    });
    const body = (await response.json()) as QueryResult | { error: string };
    if ('error' in body) throw new Error(body.error);
    return body;
  };
}

function storeFile(dataDir: string): string {
  const file = path.join(dataDir, DATABASE_FILE);
  if (!existsSync(file)) {
    throw new Error(`no local store at ${file}: run "npm start" first (or pass --data-dir)`);
  }
  return file;
}

/**
 * Runs `work` with a query function on the local store: through the running runtime if there is
 * one, else on the file, opened once for all of `work`'s queries (a report runs hundreds).
 */
export async function withLocalStore<T>(
  dataDir: string,
  work: (query: StoreQuery) => Promise<T>,
): Promise<T> {
  const running = readRuntimeFile(dataDir);
  if (running) return work(viaRuntime(running.apiPort));
  const store = await DuckDbStore.open(storeFile(dataDir), { readOnly: true });
  try {
    return await work((sql) => store.query(sql));
  } finally {
    await store.close();
  }
}

/** Runs one SQL statement against the local store: through the running runtime if there is one, else on the file. */
export function queryLocalStore(dataDir: string, sql: string): Promise<QueryResult> {
  return withLocalStore(dataDir, (query) => query(sql));
}
