import { randomUUID } from 'node:crypto';
import { reasonsFromZod, type Reason } from '../../core/contracts/reasons.ts';
import { healthReportSchema } from '../../core/edge/health-report.ts';
import { bytesToBase64 } from '../../core/ingest/base64.ts';
import type { TelemetryArrival } from '../broker/broker.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';

/**
 * Checks an edge health report and keeps it; a malformed one goes to the quarantine with its
 * reasons, like a malformed reading, instead of vanishing.
 */
export async function recordHealth(
  store: DuckDbStore,
  { useCase, thing }: { useCase: string; thing: string },
  arrival: TelemetryArrival,
  counters: { quarantined: number },
): Promise<void> {
  let reasons: Reason[];
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(arrival.payload));
    const parsed = healthReportSchema.safeParse(raw, { reportInput: true });
    if (parsed.success && parsed.data.deviceId === thing) {
      await store.recordHealth(useCase, arrival.receivedAt, parsed.data, raw);
      return;
    }
    reasons = parsed.success
      ? [
          {
            path: 'deviceId',
            code: 'identity_mismatch',
            message: `"${parsed.data.deviceId}" is not the publishing thing "${thing}"`,
          },
        ]
      : reasonsFromZod(parsed.error.issues);
  } catch (error) {
    reasons = [
      {
        path: '',
        code: 'invalid_json',
        message: `health report is not UTF-8 JSON: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  const outcome = await store.put({
    id: randomUUID(),
    stage: 'health',
    useCase,
    deviceId: thing,
    topic: arrival.topic,
    clientId: arrival.clientId,
    receivedAt: arrival.receivedAt,
    quarantinedAt: Date.now(),
    reasons,
    payloadBase64: bytesToBase64(arrival.payload),
  });
  if (outcome === 'kept') counters.quarantined += 1;
}
