import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');
let bench: ChildProcess | undefined;

afterEach(() => {
  // Past the test's time limit the bench would run on: it stops its runtime and agents on SIGTERM.
  if (bench?.exitCode === null) bench.kill('SIGTERM');
});

describe('the local runtime under hostile input and crashes (bench:hostile, small)', () => {
  it('stores every acknowledged valid reading once and quarantines every malformed one, through kill -9 and a clean stop', async () => {
    // The same bench as `npm run bench:hostile`, at a size CI affords; its last line is the verdict.
    const output = await new Promise<string>((resolve, reject) => {
      const child = (bench = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/hostile.ts',
          '--messages',
          '6000',
          '--publishers',
          '6',
          '--agents',
          '1',
          // The first crash comes well before 6,000 messages are through; three at most, so it ends.
          '--chaos-ms',
          '600',
          '--max-chaos',
          '3',
          '--seed',
          '3',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', () => {
        resolve(`${stdout}\n${stderr}`);
      });
    });
    const verdictLine = output
      .split('\n')
      .reverse()
      .find((line) => line.startsWith('{"messages"'));
    expect(verdictLine, output).toBeDefined();
    const verdict = JSON.parse(verdictLine ?? '{}') as Record<string, number | boolean>;
    expect(verdict, output).toMatchObject({
      ok: true,
      lost: 0,
      duplicated: 0,
      unquarantined: 0,
      counterMismatches: 0,
    });
    expect(verdict.malformedAcknowledged).toBeGreaterThan(2000);
    expect(
      Number(verdict.runtimeKills) + Number(verdict.runtimeInterrupts) + Number(verdict.agentKills),
    ).toBeGreaterThan(0);
  }, 240_000);
});
