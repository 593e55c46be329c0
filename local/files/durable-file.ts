import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';

/** Flushes a file (or a folder's entries) to disk. */
export function fsyncPath(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `text` so that a crash leaves the old or the new content, never a mix:
 * written beside it, flushed, renamed over it.
 */
export function writeFileDurably(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  fsyncPath(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
}
