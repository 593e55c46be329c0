import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  stop(): Promise<void>;
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
export async function startInfluxServer(): Promise<InfluxServer> {
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
