import { MAX_READINGS_PER_PACK, PackBuilder } from '../core/contracts/pack.ts';
import type { DiskQueue } from './disk-queue.ts';

export interface PackerOptions {
  /** Largest message readings are packed into; 0 sends each reading alone. */
  readonly maxPackBytes: number;
  /** How long a live reading may wait for others to fill its message. */
  readonly packWaitMs: number;
  /** The share of `packWaitMs` the first pack may wait (a random one spreads agents started together). */
  readonly firstPackWaitShare: number;
  /** Called when a held pack may wait no longer: the sender should try again. */
  readonly onDue: () => void;
}

/**
 * Which queued readings go out together: packed into one message up to the byte budget, and a
 * pack that is not full held back while its oldest reading may still wait for others. A backlog
 * goes at once, in full messages.
 */
export class Packer {
  /** When the newest readings were queued, by queue number: how long the next pack may still wait. */
  private readonly queuedAt = new Map<number, number>();
  /** What the next pack may wait, as a share of the pack wait: a random part until one is sent. */
  private waitShare: number;
  /**
   * The pack held back, waiting for more readings: its size so far, grown by each new reading, so
   * the queue is read again only once the pack could be full.
   */
  private held: { bytes: number; count: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: DiskQueue,
    private readonly options: PackerOptions,
  ) {
    this.waitShare = options.firstPackWaitShare;
  }

  /** A reading was queued; answers whether the sender should try now (a held pack could be full). */
  queued(number: number, bytes: number, now = Date.now()): boolean {
    this.queuedAt.set(number, now);
    // Only the newest readings can still be waiting for a pack: more than a pack holds means full packs.
    if (this.queuedAt.size > MAX_READINGS_PER_PACK) {
      const oldest = this.queuedAt.keys().next();
      if (!oldest.done) this.queuedAt.delete(oldest.value);
    }
    if (!this.held) return true;
    // A single message is larger than what its reading adds to a pack: this errs towards trying early.
    this.held.bytes += bytes;
    this.held.count += 1;
    if (this.held.bytes <= this.maxBytes && this.held.count < MAX_READINGS_PER_PACK) return false;
    this.held = undefined;
    return true;
  }

  private get maxBytes(): number {
    return this.options.maxPackBytes;
  }

  /**
   * The next message: queued readings packed up to the byte budget, or nothing while a pack that
   * is not full may still wait for more (unless `now` is a flush).
   */
  next(now: number, flush: boolean): { payload: Buffer; ids: string[] } | undefined {
    const builder = new PackBuilder(
      Math.max(1, this.maxBytes),
      this.maxBytes === 0 ? 1 : MAX_READINGS_PER_PACK,
    );
    let full = false;
    const records = this.queue.take(MAX_READINGS_PER_PACK, (payload) => {
      const added = builder.add(payload.toString());
      full ||= !added;
      return added;
    });
    const [first] = records;
    if (!first) return undefined;
    full ||= records.length === MAX_READINGS_PER_PACK || this.maxBytes === 0;
    const queuedAt = this.queuedAt.get(first.number);
    const waitUntil = queuedAt === undefined ? 0 : queuedAt + this.options.packWaitMs * this.waitShare;
    if (!full && !flush && now < waitUntil) {
      this.queue.untake(records.length);
      this.held = { bytes: builder.bytes, count: records.length };
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.held = undefined;
        this.options.onDue();
      }, waitUntil - now);
      return undefined;
    }
    this.held = undefined;
    this.waitShare = 1;
    for (const record of records) this.queuedAt.delete(record.number);
    return { payload: Buffer.from(builder.build()), ids: records.map((record) => record.id) };
  }

  /** Forgets the held pack: after a disconnect, or when everything is to go at once. */
  release(): void {
    this.held = undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
