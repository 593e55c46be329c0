import { appendFileSync, renameSync, statSync } from 'node:fs';

const MiB = 1024 * 1024;

/**
 * Where an agent keeps what it refused, with every reason: JSON lines, rotated past a size with
 * one previous file kept, so a stream of bad input cannot fill the device's disk.
 */
export class RejectFile {
  constructor(
    readonly path: string,
    private readonly thing: string,
    /** @default 10 MiB */
    private readonly maxBytes = 10 * MiB,
  ) {}

  write(input: unknown, reasons: readonly string[]): void {
    const line = `${JSON.stringify({ at: new Date().toISOString(), thing: this.thing, reasons, input })}\n`;
    try {
      if (statSync(this.path).size + line.length > this.maxBytes) renameSync(this.path, `${this.path}.1`);
    } catch {
      // No reject file yet.
    }
    appendFileSync(this.path, line);
  }
}
