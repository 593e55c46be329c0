import type { ResolvedEdgeSettings } from '../edge/settings.ts';

/** A tenth more readings than the target, for the odd one a filter holds back. */
const withMargin = (readings: number) => Math.ceil((readings * 11) / 10);

/**
 * How far back a simulated device's history must reach to hold at least `readings` sent
 * readings, whatever its edge filters thin: one per aggregation window at most, and, with a
 * deadband, at least one per heartbeat, so the heartbeat bounds it. Seconds.
 */
export function historySeconds(settings: ResolvedEdgeSettings, rate: number, readings: number): number {
  if (!(rate > 0)) throw new Error(`rate must be above 0 readings a second, got ${rate}`);
  if (!Number.isInteger(readings) || readings < 0)
    throw new Error(`readings must be a whole number of at least 0, got ${readings}`);
  const perReadingMs = Math.max(
    1000 / rate,
    settings.aggregateMs,
    Object.keys(settings.deadband).length > 0 ? settings.heartbeatMs : 0,
  );
  return Math.ceil((withMargin(readings) * perReadingMs) / 1000);
}
