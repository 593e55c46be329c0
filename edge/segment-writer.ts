import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { segmentFile } from './queue-files.ts';

/** When appended records reach the disk: after every append, at most every N ms, or when the OS decides. */
export type FsyncPolicy = 'always' | 'never' | { readonly everyMs: number };

/**
 * Appends frames to the newest segment, and makes them durable as the fsync policy says: after
 * every append, at most every N ms, or when the OS decides. A segment is synced before the next
 * one starts.
 */
export class SegmentWriter {
  private fd: number;
  private lastSync = 0;
  private dirty = false;

  constructor(
    private readonly dir: string,
    segment: number,
    private readonly policy: FsyncPolicy,
    private readonly now: () => number,
  ) {
    this.fd = openSync(segmentFile(dir, segment), 'a');
  }

  append(frame: Buffer): void {
    writeSync(this.fd, frame);
    if (this.policy === 'never') return;
    const now = this.now();
    if (this.policy === 'always' || now - this.lastSync >= this.policy.everyMs) {
      fsyncSync(this.fd);
      this.lastSync = now;
      this.dirty = false;
    } else this.dirty = true;
  }

  /** Continues in segment `next`, the current one synced and closed. */
  roll(next: number): void {
    this.close();
    this.fd = openSync(segmentFile(this.dir, next), 'a');
  }

  close(): void {
    if (this.dirty) fsyncSync(this.fd);
    this.dirty = false;
    closeSync(this.fd);
  }
}
