import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { waitFor } from './wait.ts';

/** A real InfluxDB server (Debian's `influxdb`, 1.x) on loopback, in a folder of its own. */
export interface InfluxServer {
  readonly url: string;
  /** Creates a database and answers its name. */
  createDatabase(name: string): Promise<string>;
  /** Runs one InfluxQL statement as an administrator would (test setup and checks). */
  influxql(statement: string, database?: string): Promise<unknown>;
  /** Bytes of a database's data on disk (TSM files and the series index; the write-ahead log is apart). */
  dataBytes(database: string): number;
  /** Bytes of a database's TSM files alone: the points, without the series index (per series, not per point). */
  tsmBytes(database: string): number;
  /** Bytes of a database's write-ahead log. */
  walBytes(database: string): number;
  stop(): Promise<void>;
}

export interface InfluxServerOptions {
  /**
   * Seconds after which a quiet shard's cache is written to TSM files and the shard fully
   * compacted, as influxd does after 10 minutes and 4 hours: for measuring what data takes on
   * disk for good. @default influxd's own
   */
  readonly compactAfterSeconds?: number;
}

/** Bytes of the files under a folder (those whose name ends in `suffix`). */
function folderBytes(dir: string, suffix = ''): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix))
      total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address) resolve(address.port);
        else reject(new Error('no port was given'));
      });
    });
  });
}

/**
 * Starts `influxd` (INFLUXD_PATH or the one on PATH). `.ci/run` installs Debian's package; a
 * machine without it fails here with what to install, not with a skipped test.
 */
export async function startInfluxServer(options: InfluxServerOptions = {}): Promise<InfluxServer> {
  const binary = process.env.INFLUXD_PATH ?? 'influxd';
  if (spawnSync(binary, ['version']).error) {
    throw new Error(
      `${binary} not found: the InfluxDB adapter tests need a real server (Debian: apt-get install influxdb; .ci/run installs it)`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${path.join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${path.join(dir, 'data')}"`,
      `  wal-dir = "${path.join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      // The series index on disk, as InfluxDB 2 (and so Timestream for InfluxDB) keeps it.
      '  index-version = "tsi1"',
      ...(options.compactAfterSeconds === undefined
        ? []
        : [
            `  cache-snapshot-write-cold-duration = "${options.compactAfterSeconds}s"`,
            `  compact-full-write-cold-duration = "${options.compactAfterSeconds}s"`,
          ]),
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const child: ChildProcess = spawn(binary, ['-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    await waitFor('influxd to answer /ping', async () => {
      if (exited) throw new Error(`influxd exited at start:\n${log}`);
      const answer = await fetch(`${url}/ping`).catch(() => undefined);
      return answer?.status === 204 ? true : undefined;
    });
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const influxql = async (statement: string, database?: string) => {
    const body = new URLSearchParams({ q: statement, epoch: 'ms', ...(database ? { db: database } : {}) });
    const answer = await fetch(`${url}/query`, { method: 'POST', body });
    if (!answer.ok) throw new Error(`${statement}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  };
  return {
    url,
    influxql,
    dataBytes: (database) => folderBytes(path.join(dir, 'data', database)),
    tsmBytes: (database) => folderBytes(path.join(dir, 'data', database), '.tsm'),
    walBytes: (database) => folderBytes(path.join(dir, 'wal', database)),
    async createDatabase(name) {
      await influxql(`CREATE DATABASE "${name}"`);
      return name;
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A deployed function's environment with the InfluxDB instance's address replaced by the test
 * server's: the one value the test decides, not the template. An environment without an instance
 * (a LiveAnalytics deployment) stays as it is.
 */
export function onInfluxServer<T extends Record<string, string | undefined>>(
  env: T,
  server: Pick<InfluxServer, 'url'>,
): T {
  return env.INFLUX_URL === undefined ? env : { ...env, INFLUX_URL: server.url };
}
