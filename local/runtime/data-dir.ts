import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The runtime's data folder (`.aiot` by default): what lives where, and the file by which the CLI
 * finds a running runtime and the ports it opened.
 */
export const RUNTIME_FILE = 'runtime.json';
export const DATABASE_FILE = 'local.duckdb';
/** The ingest queue's journal: what the broker acknowledged and ingestion has not finished. */
export const QUEUE_DIR = 'queue';

/** What `aiot query`, `aiot alerts` and `aiot edge` read to find a running runtime. */
export interface RuntimeFile {
  readonly pid: number;
  readonly mqttPort: number;
  readonly apiPort: number;
  /** Absent when the runtime runs without a console. */
  readonly consolePort?: number;
  /** Each use case's model server, for those the runtime scores. */
  readonly modelPorts?: Readonly<Record<string, number>>;
  readonly startedAt: string;
}

/** The running runtime on `dataDir`, or undefined when none is (a file left by a crash is ignored). */
export function readRuntimeFile(dataDir: string): RuntimeFile | undefined {
  const file = path.join(dataDir, RUNTIME_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as RuntimeFile;
  try {
    process.kill(parsed.pid, 0);
    return parsed;
  } catch {
    return undefined; // left behind by a runtime that did not stop cleanly
  }
}

export function writeRuntimeFile(dataDir: string, runtime: RuntimeFile): void {
  writeFileSync(path.join(dataDir, RUNTIME_FILE), JSON.stringify(runtime, null, 2));
}

export function removeRuntimeFile(dataDir: string): void {
  rmSync(path.join(dataDir, RUNTIME_FILE), { force: true });
}
