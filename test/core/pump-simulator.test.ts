import { describe, expect, it } from 'vitest';
import { deviceSimulator } from '../../core/simulation/device-simulator.ts';
import { PUMP_FAULTS, PumpSimulator } from '../../core/simulation/pump-simulator.ts';
import { repoContracts } from '../support/contracts.ts';
import { repoUseCase } from '../support/catalog.ts';

const START = Date.UTC(2026, 0, 5);
const HOUR = 3600_000;

/** The mean of each measure over `seconds` readings from `from` (epoch ms), one a second. */
function means(pump: PumpSimulator, from: number, seconds: number): Record<string, number> {
  const sums: Record<string, number> = {};
  for (let s = 0; s < seconds; s++)
    for (const [name, value] of Object.entries(pump.next(from + s * 1000).measures))
      sums[name] = (sums[name] ?? 0) + value;
  return Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, sum / seconds]));
}

/** The same pump (same seed) healthy and with `fault` started at START, an hour on. */
function healthyAndFaulty(fault: string) {
  const healthy = new PumpSimulator({ thing: 'p', seed: 5 });
  const faulty = new PumpSimulator({ thing: 'p', seed: 5 });
  faulty.inject(fault, START);
  return { healthy: means(healthy, START + HOUR, 600), faulty: means(faulty, START + HOUR, 600) };
}

describe('the pump simulator', () => {
  it('GIVEN no fault THEN two pumps of one seed read the same, so the healthy fleet the alerts were tuned on is unchanged', () => {
    const a = new PumpSimulator({ thing: 'p', seed: 9 });
    const b = new PumpSimulator({ thing: 'p', seed: 9 });
    for (let s = 0; s < 100; s++) expect(a.next(START + s * 1000)).toEqual(b.next(START + s * 1000));
  });

  it('GIVEN a reading a minute (bench:mv) THEN flow and temperatures stay where a pump reads, for days', () => {
    const pump = new PumpSimulator({ thing: 'p', seed: 3 });
    const readings = Array.from({ length: 3 * 1440 }, (_, m) => pump.next(START + m * 60_000, 60).measures);
    const flows = readings.map((m) => m.flowRate ?? Number.NaN);
    expect(Math.min(...flows)).toBeGreaterThan(0.8 * (flows[0] ?? 0));
    expect(Math.max(...flows)).toBeLessThan(1.2 * (flows[0] ?? 0));
    for (const m of readings) expect(m.motorTemperature).toBeGreaterThan(40);
    for (const m of readings) expect(m.motorTemperature).toBeLessThan(120);
  });

  it('GIVEN a worn bearing THEN vibration grows with the hours and the motor runs warmer', () => {
    const { healthy, faulty } = healthyAndFaulty('bearing-wear');
    // An hour in: 0.005 g more on X, 0.007 g on Y, 0.5 degC, each per hour the fault has lasted,
    // averaged over readings 0 to 599 s past the hour.
    const hours = 1 + 299.5 / 3600;
    expect((faulty.vibrationRmsX ?? 0) - (healthy.vibrationRmsX ?? 0)).toBeCloseTo(0.005 * hours, 9);
    expect((faulty.vibrationRmsY ?? 0) - (healthy.vibrationRmsY ?? 0)).toBeCloseTo(0.007 * hours, 9);
    expect((faulty.motorTemperature ?? 0) - (healthy.motorTemperature ?? 0)).toBeCloseTo(0.5 * hours, 9);
    expect(faulty.flowRate).toBeCloseTo(healthy.flowRate ?? 0, 9);
  });

  it('GIVEN cavitation THEN the outlet pressure falls and scatters and the flow drops 3%', () => {
    const { healthy, faulty } = healthyAndFaulty('cavitation');
    expect((faulty.outletPressure ?? 0) - (healthy.outletPressure ?? 0)).toBeCloseTo(-0.06, 2);
    expect((faulty.flowRate ?? 0) / (healthy.flowRate ?? 1)).toBeCloseTo(0.97, 9);
    expect(faulty.motorCurrent).toBeCloseTo(healthy.motorCurrent ?? 0, 9);
  });

  it('GIVEN a clogging inlet THEN flow, current and pressure fall until the drift reaches its cap', () => {
    const healthy = new PumpSimulator({ thing: 'p', seed: 5 });
    const faulty = new PumpSimulator({ thing: 'p', seed: 5 });
    faulty.inject('blocked-inlet', START);
    const fiveHoursOn = START + 5 * HOUR;
    const h = means(healthy, fiveHoursOn, 60);
    const f = means(faulty, fiveHoursOn, 60);
    expect((f.flowRate ?? 0) - (h.flowRate ?? 0)).toBeCloseTo(-8, 9);
    expect((f.motorCurrent ?? 0) - (h.motorCurrent ?? 0)).toBeCloseTo(-0.3, 9);
    expect((f.outletPressure ?? 0) - (h.outletPressure ?? 0)).toBeCloseTo(-0.16, 9);
  });

  it('GIVEN a fault that would push a sensor below what it can read THEN the reading stops at the sensor floor', () => {
    const pump = new PumpSimulator({ thing: 'p', seed: 5 });
    pump.inject('blocked-inlet', START - 1000 * HOUR);
    for (let s = 0; s < 600; s++) {
      const { measures } = pump.next(START + s * 1000);
      expect(measures.flowRate).toBeGreaterThanOrEqual(0);
      expect(measures.motorCurrent).toBeGreaterThanOrEqual(0);
    }
  });

  it('GIVEN an undeclared fault THEN the error names the pump faults there are', () => {
    const pump = new PumpSimulator({ thing: 'p', seed: 5 });
    expect(() => {
      pump.inject('flood', START);
    }).toThrow('unknown fault "flood" (declared: bearing-wear, cavitation, blocked-inlet)');
  });

  it('GIVEN the pump use case THEN its simulated devices offer the pump faults, each on a measure the contract has', () => {
    const manifest = repoUseCase('pump-maintenance');
    const contract = repoContracts.get(manifest.contract);
    const healthy = deviceSimulator(manifest, contract, 3);
    const faulty = deviceSimulator(manifest, contract, 3);
    expect(faulty.faultIds).toEqual(['bearing-wear', 'cavitation', 'blocked-inlet']);
    for (const fault of PUMP_FAULTS)
      for (const effect of fault.effects) expect(Object.keys(contract.measures)).toContain(effect.measure);
    faulty.inject('bearing-wear', START);
    const fourHoursOn = START + 4 * HOUR;
    expect(
      (faulty.next(fourHoursOn, 1).vibrationRmsX ?? 0) - (healthy.next(fourHoursOn, 1).vibrationRmsX ?? 0),
    ).toBeCloseTo(0.02, 9);
  });
});
