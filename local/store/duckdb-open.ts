import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** A size DuckDB's checkpoint_threshold takes. */
const CHECKPOINT_THRESHOLD = /^\d+(\.\d+)?\s?(B|KB|MB|GB|KiB|MiB|GiB)$/;

/**
 * Rows a row group of the store's file holds (DuckDB's default is 122,880). Every checkpoint
 * rewrites each table's last, partly filled row group: with the default, a checkpoint at 5,000
 * readings a second rewrote up to two minutes of telemetry and inferences and held the one writer
 * up for that long (docs/benchmarks.md); with small ones it writes little more than what is new.
 */
export const ROW_GROUP_ROWS = 8192;

export interface OpenedDatabase {
  readonly instance: DuckDBInstance;
  readonly writer: DuckDBConnection;
  readonly reader: DuckDBConnection;
}

/**
 * Opens the store's file: read-only as it is, or for writing attached with small row groups (an
 * option only ATTACH takes). Either way the connections can reach no other file afterwards: no
 * COPY TO, read_text, ATTACH or extension downloads, whatever SQL reaches them.
 */
export async function openDatabase(
  file: string,
  options: { readOnly?: boolean; checkpointThreshold?: string } = {},
): Promise<OpenedDatabase> {
  const threshold = options.checkpointThreshold;
  if (threshold !== undefined && !CHECKPOINT_THRESHOLD.test(threshold)) {
    throw new Error(`checkpointThreshold must be a size like "16MiB" or "1GB", got "${threshold}"`);
  }
  if (options.readOnly) {
    const instance = await DuckDBInstance.create(file, {
      enable_external_access: 'false',
      access_mode: 'READ_ONLY',
    });
    return { instance, writer: await instance.connect(), reader: await instance.connect() };
  }
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const instance = await DuckDBInstance.create(
    ':memory:',
    threshold ? { checkpoint_threshold: threshold } : {},
  );
  const writer = await instance.connect();
  await writer.run(`ATTACH '${file.replaceAll("'", "''")}' AS store (ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
  await writer.run('USE store');
  const reader = await instance.connect();
  await reader.run('USE store');
  // Off for the instance from here on; the caller locks the configuration once its schema is made.
  await writer.run('SET enable_external_access = false');
  return { instance, writer, reader };
}
