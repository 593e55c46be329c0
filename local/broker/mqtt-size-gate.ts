import { Duplex } from 'node:stream';
import type * as tls from 'node:tls';

export interface OversizedPacket {
  /** MQTT control packet type (3 is PUBLISH). */
  readonly type: number;
  /** Remaining length the fixed header announced. */
  readonly bytes: number;
}

/** A per-connection publish budget, as IoT Core applies one (100 publishes a second). */
export interface PublishLimit {
  readonly perSecond: number;
  /** Called for each PUBLISH dropped over the budget. */
  readonly onThrottled: () => void;
  /** @default Date.now */
  readonly now?: () => number;
}

const PUBLISH = 3;

/**
 * Sits between a TLS socket and the MQTT parser and reads only fixed headers. A packet whose
 * announced length is over `maxPacketBytes` closes the connection before its body is read, so a
 * 100 MB publish costs a few bytes of memory instead of 100 MB; IoT Core does the same with
 * messages over its 128 KB limit (the client is disconnected). With a `publishLimit`, a PUBLISH
 * over the connection's budget is dropped before the broker sees it: no PUBACK, the connection
 * stays, and the client must send it again, as IoT Core throttles a connection.
 */
export class MqttSizeGate extends Duplex {
  /** Header bytes of a packet whose header is not complete yet, held back from the broker. */
  private header: number[] = [];
  private length = 0;
  private multiplier = 1;
  private bodyLeft = 0;
  private dropping = false;
  private refused = false;
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly socket: tls.TLSSocket,
    private readonly maxPacketBytes: number,
    private readonly onOversized: (packet: OversizedPacket) => void,
    private readonly publishLimit?: PublishLimit,
  ) {
    super({ allowHalfOpen: false });
    this.tokens = publishLimit?.perSecond ?? 0;
    this.refilledAt = this.now();
    socket.on('data', (chunk: Buffer) => {
      if (this.refused) return;
      let open = true;
      const { parts, oversized } = this.inspect(chunk);
      for (const part of parts) open = this.push(part) && open;
      if (oversized) {
        // The packets before the oversized one went through; aedes sees a client that went away.
        this.socket.destroy();
        return;
      }
      if (!open) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (error: Error) => this.destroy(error));
  }

  private now(): number {
    return this.publishLimit?.now?.() ?? Date.now();
  }

  /** True when the budget has room for one more PUBLISH (a token bucket of one second). */
  private takePublish(): boolean {
    const limit = this.publishLimit;
    if (!limit) return true;
    const now = this.now();
    this.tokens = Math.min(limit.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * limit.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Walks the packet boundaries in `chunk`; answers the parts the broker may see, in order, and
   * whether a packet over the size limit ends the connection.
   */
  private inspect(chunk: Buffer): { parts: Buffer[]; oversized: boolean } {
    const parts: Buffer[] = [];
    let from = 0; // start of the run of bytes to pass
    let offset = 0;
    const cut = (to: number) => {
      if (to > from) parts.push(chunk.subarray(from, to));
    };
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= take;
        offset += take;
        if (this.dropping && this.bodyLeft === 0) {
          this.dropping = false;
          from = offset;
        }
        continue;
      }
      const byte = chunk[offset] ?? 0;
      if (this.header.length === 0) {
        // A header starts: what came before it in this chunk is settled.
        cut(offset);
        from = offset;
        this.length = 0;
        this.multiplier = 1;
      } else {
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
      }
      this.header.push(byte);
      offset += 1;
      if (this.header.length === 1 || (byte & 0x80 && this.header.length < 5)) continue;
      const type = (this.header[0] ?? 0) >> 4;
      // Header bytes from an earlier chunk were held back; this chunk's are in [from, offset).
      const heldBack = this.header.length - (offset - from);
      const held = heldBack > 0 ? Buffer.from(this.header.slice(0, heldBack)) : undefined;
      this.header = [];
      if (this.length > this.maxPacketBytes) {
        this.refused = true;
        this.onOversized({ type, bytes: this.length });
        return { parts, oversized: true };
      }
      this.bodyLeft = this.length;
      if (type === PUBLISH && !this.takePublish()) {
        this.publishLimit?.onThrottled();
        this.dropping = this.bodyLeft > 0;
        from = offset;
        continue;
      }
      if (held) {
        parts.push(held);
      }
    }
    if (this.header.length > 0) {
      // The header goes on in the next chunk: hold this chunk's part of it back until it is whole.
      const inThisChunk = Math.min(this.header.length, offset - from);
      cut(offset - inThisChunk);
    } else if (!this.dropping) {
      cut(chunk.length);
    }
    return { parts, oversized: false };
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy(error ?? undefined);
    callback(error);
  }
}
