import { z } from 'zod';
import { thingNameSchema } from '../contracts/contract.ts';

const count = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * What an edge agent reports on `dt/<use case>/<thing>/health`: its connection, its disk backlog
 * and what it filtered, rejected or lost. Not strict: a newer agent may add figures, which are
 * kept in the stored report.
 */
export const healthReportSchema = z.object({
  deviceId: thingNameSchema,
  timestamp: z.iso.datetime({ offset: true }),
  connected: z.boolean(),
  queueDepth: count,
  queueBytes: count,
  oldestAgeSeconds: z.number().min(0),
  inFlight: count,
  sent: count,
  /** Messages acknowledged: fewer than `sent` readings when the agent packs them. Absent from older agents. */
  published: count.optional(),
  readings: count,
  filtered: count,
  rejected: count,
  spikes: z.record(z.string().max(128), count),
  aggregated: count,
  dropped: count,
  corrupt: count,
  reconnects: count,
  lastError: z.string().max(4096).optional(),
});

export type HealthReport = z.output<typeof healthReportSchema>;
