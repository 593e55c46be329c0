import { Duplex } from 'node:stream';
import type * as tls from 'node:tls';

export interface OversizedPacket {
  /** MQTT control packet type (3 is PUBLISH). */
  readonly type: number;
  /** Remaining length the fixed header announced. */
  readonly bytes: number;
}

/**
 * Sits between a TLS socket and the MQTT parser and reads only fixed headers: a packet whose
 * announced length is over `maxPacketBytes` closes the connection before its body is read, so a
 * 100 MB publish costs a few bytes of memory instead of 100 MB. IoT Core does the same with
 * messages over its 128 KB limit (the client is disconnected).
 */
export class MqttSizeGate extends Duplex {
  private headerByte = -1;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private refused = false;

  constructor(
    readonly socket: tls.TLSSocket,
    private readonly maxPacketBytes: number,
    private readonly onOversized: (packet: OversizedPacket) => void,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      if (this.refused) return;
      const allowed = this.inspect(chunk);
      if (allowed < chunk.length) {
        if (allowed > 0) this.push(chunk.subarray(0, allowed));
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (error: Error) => this.destroy(error));
  }

  /** Walks the packet boundaries in `chunk`; returns how many bytes may pass (all of them, unless a packet is too large). */
  private inspect(chunk: Buffer): number {
    let offset = 0;
    let packetStart = 0;
    while (offset < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - offset);
        this.bodyLeft -= skip;
        offset += skip;
        continue;
      }
      const byte = chunk[offset] ?? 0;
      offset += 1;
      if (this.headerByte < 0) {
        packetStart = offset - 1;
        this.headerByte = byte;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80 && this.lengthBytes < 4) continue;
      const type = this.headerByte >> 4;
      this.headerByte = -1;
      if (this.length > this.maxPacketBytes) {
        this.refused = true;
        this.onOversized({ type, bytes: this.length });
        // Pass the packets before the oversized one, then close: aedes sees a client that went away.
        this.socket.destroy();
        return packetStart;
      }
      this.bodyLeft = this.length;
    }
    return chunk.length;
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
