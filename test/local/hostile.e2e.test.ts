import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');

describe('the local runtime under hostile input and crashes (bench:hostile, small)', () => {
  it('stores every acknowledged valid reading once and quarantines every malformed one, through kills and Ctrl-C', async () => {
    // The same bench as `npm run bench:hostile`, at a size CI affords; its last line is the verdict.
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/hostile.ts',
          '--messages',
          '3000',
          '--publishers',
          '6',
          '--agents',
          '1',
          '--chaos-ms',
          '800',
          '--seed',
          '3',
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
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
    expect(verdict.malformedAcknowledged).toBeGreaterThan(1000);
  }, 240_000);
});
