import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding `file` as a lock between processes on this machine (the runtime and the
 * CLI): created exclusively, holding the holder's pid. A lock whose holder died is taken over.
 */
export async function withFileLock<T>(file: string, work: () => T | Promise<T>, waitMs = 10_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released between the two calls
    }
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      try {
        unlinkSync(file);
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${file} is held by process ${holder} for more than ${waitMs / 1000} s`);
    }
    await sleep(20);
  }
  try {
    return await work();
  } finally {
    unlinkSync(file);
  }
}
