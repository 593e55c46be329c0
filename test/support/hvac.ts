import type { TelemetryRecord } from '../../core/ingest/records.ts';
import { DAY_MS, type KpiReading, type KpiReads } from '../../core/kpi/kpi.ts';

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

/**
 * A unit whose savings are known: read every 15 minutes for 30 days from Monday 2026-07-06; the
 * outdoor temperature's daily mean swings between 14 and 30 °C, weekdays are occupied 08-18;
 * power is 20 kW plus 1.5 kW per degree above 18 °C plus 0.1 kW per occupancy point, and 10% less
 * from day 21 on (hvac-energy's baseline is its first 21 days). Day 25 is an outage: no readings.
 */
export function savingUnit(): {
  readonly START: number;
  readonly DAYS: number;
  readonly OUTAGE_DAY: number;
  readonly reads: KpiReads;
} {
  const START = Date.UTC(2026, 6, 6);
  const DAYS = 30;
  const OUTAGE_DAY = 25;
  const all: KpiReading[] = [];
  for (let time = START; time < START + DAYS * DAY_MS; time += 15 * 60_000) {
    const day = Math.floor((time - START) / DAY_MS);
    if (day === OUTAGE_DAY) continue;
    const hour = Math.floor((time % DAY_MS) / 3_600_000);
    const outdoor = 22 + 8 * Math.sin(day * 0.9) + 2 * Math.sin((hour / 24) * 2 * Math.PI);
    const occupancy = day % 7 < 5 && hour >= 8 && hour < 18 ? 60 + (day % 3) * 10 : 0;
    const power = (20 + 1.5 * Math.max(0, outdoor - 18) + 0.1 * occupancy) * (day >= 21 ? 0.9 : 1);
    all.push({
      deviceId: 'ahu-1',
      time,
      values: {
        // A fixed zig-zag stands in for noise, so the fit is not perfect.
        'measures.electricalPower': power + (day % 2 === 0 ? 0.3 : -0.3),
        'measures.outdoorAirTemperature': outdoor,
        'measures.occupancy': occupancy,
      },
    });
  }
  const reads: KpiReads = {
    readings: (_, __, from, to) => Promise.resolve(all.filter((r) => r.time >= from && r.time < to)),
    devices: () => Promise.resolve(1),
    alerts: () => Promise.resolve([]),
    sql: () => Promise.reject(new Error('no SQL here')),
    firstReading: () => Promise.resolve(START),
  };
  return { START, DAYS, OUTAGE_DAY, reads };
}
