import type { TelemetryMessage } from '../../core/contracts/contract.ts';
import { pumpTelemetryV1 } from './contracts.ts';
import { bytesToBase64 } from '../../core/ingest/base64.ts';
import type { InboundMessage } from '../../core/ingest/ingest-batch.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { applyIngestRule } from '../../core/ingest/rule.ts';

let nextId = 0;

export function reading(
  overrides: Partial<Omit<TelemetryMessage, 'measures'>> & { measures?: Record<string, unknown> } = {},
) {
  const base = pumpTelemetryV1.example({ deviceId: 'pump-001' });
  return { ...base, ...overrides, measures: { ...base.measures, ...overrides.measures } };
}

/** A queue message exactly as the ingest rule would produce it for `payload` published by `thing`. */
export function inbound(
  payload: unknown,
  options: { thing?: string; raw?: string; id?: string } = {},
): InboundMessage {
  const thing = options.thing ?? 'pump-001';
  const bytes = new TextEncoder().encode(options.raw ?? JSON.stringify(payload));
  const rule = applyIngestRule({
    topic: `dt/pump-maintenance/${thing}/telemetry`,
    payload: bytes,
    clientId: thing,
    receivedAt: 1_768_465_800_000,
  });
  return { id: options.id ?? `msg-${++nextId}`, body: JSON.stringify(rule) };
}

/** A stored reading of use case `uc`, as ingestion hands it to scoring. */
export function telemetryRecord(
  device: string,
  time: number,
  seq: number,
  measures: Readonly<Record<string, number>>,
): TelemetryRecord {
  return {
    dimensions: {
      use_case: 'uc',
      device_id: device,
      firmware: '1',
      hardware_generation: 'g',
      contract: 'c@1',
    },
    time,
    seq,
    origin: 'device',
    measures,
  };
}

export { bytesToBase64 };

/** Single messages of one device in the packed form, written out by hand (not by the edge's PackBuilder). */
export function pack(messages: readonly Record<string, unknown>[], shared: Record<string, unknown> = {}) {
  const [first] = messages;
  if (!first) throw new Error('a pack needs a reading');
  const { timestamp: _t, seq: _s, measures: _m, ...common } = first;
  return {
    ...common,
    ...shared,
    readings: messages.map(({ timestamp, seq, measures }) => ({ timestamp, seq, measures })),
  };
}
