import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSummary } from '../../bin/cli/start-output.ts';
import { waitFor } from '../support/wait.ts';

/**
 * `npm start` as the README runs it, through npm and package.json's script, stopped the way a
 * terminal stops it: Ctrl-C reaches the whole process group. `test/support/cli.ts` runs the CLI
 * directly, so only this test sees what the script puts between npm and the runtime.
 */
const ROOT = path.join(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'aiot-npm-start-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** State, parent and process group of a process, from Linux's /proc; undefined once it is gone. */
function statOf(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis: state, ppid, pgrp.
    const [state = '', ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/**
 * The node process of the group that runs `needle` itself: of the node processes whose command
 * line holds it, the one that starts no other (a wrapper such as the tsx CLI starts the runtime).
 */
function runtimeOfGroup(group: number, needle: string): number[] {
  const candidates = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const [program = '', ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return (
          statOf(pid)?.pgrp === group && path.basename(program) === 'node' && args.join(' ').includes(needle)
        );
      } catch {
        return false; // gone meanwhile
      }
    });
  return candidates.filter((pid) => !candidates.some((other) => statOf(other)?.ppid === pid));
}

describe('npm start and Ctrl-C', () => {
  it('GIVEN npm start on a machine too busy to answer at once WHEN Ctrl-C reaches the process group THEN the runtime stops cleanly and prints its summary', async () => {
    const child = spawn(
      'npm',
      [
        'start',
        '--',
        ...['--devices', '1', '--no-model', '--no-console', '--no-history'],
        ...['--mqtt-port', '0', '--api-port', '0', '--data-dir', dataDir],
      ],
      { cwd: ROOT, detached: true, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    const group = child.pid ?? 0;
    await waitFor('the banner', () => (stdout.includes('Ctrl-C stops cleanly') ? true : undefined), 60_000);
    const runtimes = runtimeOfGroup(group, 'bin/aiot.ts start');
    expect(runtimes).toHaveLength(1);
    const [runtime = 0] = runtimes;

    // GIVEN a runtime whose event loop cannot answer for a moment (stopped, as a blocked loop is)
    process.kill(runtime, 'SIGSTOP');
    // WHEN a terminal's Ctrl-C reaches every process of the group
    process.kill(-group, 'SIGINT');
    // A busy stretch of half a second: what a loaded 2-core machine gives a runtime ingesting history.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const state = statOf(runtime)?.state;
    expect(state === undefined || state === 'Z' ? 'killed while busy' : 'alive').toBe('alive');
    process.kill(runtime, 'SIGCONT');
    await closed;

    // THEN it stopped as Ctrl-C promises: cleanly, with the summary table
    expect(stdout).toContain('stopping (Ctrl-C)');
    expect(parseSummary(stdout).stored).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
