import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { onTestFinished } from 'vitest';
import type { AuditKind } from '../../core/audit/audit-event.ts';
import type { AuditEntry } from '../../core/audit/chain.ts';
import type { ModelRegistry } from '../../core/model/registry.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

/**
 * A command started in a test ends with it: a test that times out would otherwise leave its
 * command running, and a runtime left running takes a core from every test file after it.
 */
function endsWithTest(child: ChildProcess): void {
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  } catch {
    // Started by a hook, outside any test: the hook's own timeout and the command's apply.
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `aiot <args>` as a user would; `interruptWhen` sends Ctrl-C once stdout matches it.
 */
export function aiot(
  args: string[],
  options: {
    interruptWhen?: RegExp;
    timeoutMs?: number;
    /** Written to its standard input, which is then closed; without it, stdin is closed at once. */
    input?: string;
    /** Sends Ctrl-C once this answers true, checked every 100 ms (a server that runs until stopped). */
    stopWhen?: (stdout: string) => Promise<boolean> | boolean;
  } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/aiot.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    endsWithTest(child);
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aiot ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.interruptWhen && !interrupted && options.interruptWhen.test(stdout)) {
        interrupted = true;
        // Twice at once, as a terminal's process group and npm deliver one Ctrl-C.
        child.kill('SIGINT');
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(options.input);
    const stopWhen = options.stopWhen;
    const poll = stopWhen
      ? setInterval(() => {
          void Promise.resolve(stopWhen(stdout)).then((stop) => {
            if (stop && !interrupted) {
              interrupted = true;
              child.kill('SIGINT');
            }
          });
        }, 100)
      : undefined;
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A use case's model registry as `aiot model list --format json` prints it. */
export async function listedRegistry(dataDir: string, useCase: string): Promise<ModelRegistry> {
  const listed = await aiot([
    'model',
    'list',
    '--use-case',
    useCase,
    '--format',
    'json',
    '--data-dir',
    dataDir,
  ]);
  return JSON.parse(listed.stdout) as ModelRegistry;
}

/** The audit trail's events of one kind, as `aiot audit list --kind <kind> --format json` prints them. */
export async function auditOfKind(dataDir: string, kind: AuditKind): Promise<AuditEntry[]> {
  const listed = await aiot(['audit', 'list', '--kind', kind, '--format', 'json', '--data-dir', dataDir]);
  return JSON.parse(listed.stdout) as AuditEntry[];
}
