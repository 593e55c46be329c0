import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { DAY_MS } from '../../core/kpi/kpi.ts';

/**
 * A day of stored hvac-energy readings from `day` (00:00 UTC), one every 5 minutes for each unit,
 * with the store-column measures `measuresAt` gives for each time.
 */
export function unitDays(
  day: number,
  devices: readonly string[],
  measuresAt: (time: number) => Record<string, number>,
): TelemetryRecord[] {
  const records: TelemetryRecord[] = [];
  for (const device of devices)
    for (let time = day, seq = 0; time < day + DAY_MS; time += 5 * 60_000, seq++)
      records.push({
        dimensions: {
          use_case: 'hvac-energy',
          device_id: device,
          firmware: '2.1.0',
          hardware_generation: 'ahu-b',
          contract: 'hvac.telemetry@1',
        },
        time,
        seq,
        origin: 'simulated',
        measures: measuresAt(time),
      });
  return records;
}
