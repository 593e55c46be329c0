import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  evaluationOrder,
  ManifestSimulator,
  simulationSchema,
  type SimulationSpec,
} from '../../core/simulation/manifest-simulator.ts';
import { manifestDocument, parseManifest, parseManifestDocument } from '../../core/usecase/manifest.ts';
import { repoContracts } from '../support/contracts.ts';
import { fileProblems } from '../support/file-problems.ts';

const FILE = 'usecases/hvac-energy.yaml';
const shipped = readFileSync(path.join(import.meta.dirname, '..', '..', FILE), 'utf8');
const MONDAY = Date.UTC(2026, 0, 5); // 00:00 UTC
const HOUR = 3600_000;

function simulator(measures: Record<string, unknown>, extra: Record<string, unknown> = {}, seed = 1) {
  const spec: SimulationSpec = simulationSchema.parse({ thingPrefix: 'ahu', measures, ...extra });
  return new ManifestSimulator({ spec, ranges: { clamped: { min: 0, max: 10 } }, seed });
}

describe('the manifest simulator', () => {
  it('GIVEN a weekday schedule in site time THEN the measure is on within its hours on its days and off otherwise', () => {
    const sim = simulator(
      { occupancy: { mean: 0, schedule: { days: ['mon'], from: '08:00', to: '18:00', on: 80, off: 5 } } },
      { utcOffsetHours: 2 },
    );
    // 08:00 site time is 06:00 UTC.
    expect(sim.next(MONDAY + 5.5 * HOUR).occupancy).toBe(5);
    expect(sim.next(MONDAY + 6 * HOUR).occupancy).toBe(80);
    expect(sim.next(MONDAY + 15.9 * HOUR).occupancy).toBe(80);
    expect(sim.next(MONDAY + 16 * HOUR).occupancy).toBe(5);
    // Tuesday is not a day of the schedule.
    expect(sim.next(MONDAY + 30 * HOUR).occupancy).toBe(5);
  });

  it('GIVEN a daily cycle and a tie to it THEN the cycle peaks at its hour and the dependent follows its deviation', () => {
    const sim = simulator({
      outdoor: { mean: 20, daily: { amplitude: 5, peakHour: 15 } },
      valve: { mean: 40, dependsOn: { outdoor: 2 } },
    });
    const peak = sim.next(MONDAY + 15 * HOUR);
    expect(peak.outdoor).toBeCloseTo(25, 9);
    expect(peak.valve).toBeCloseTo(50, 9);
    const trough = sim.next(MONDAY + 27 * HOUR);
    expect(trough.outdoor).toBeCloseTo(15, 9);
    expect(trough.valve).toBeCloseTo(30, 9);
  });

  it('GIVEN a lag THEN the measure moves towards a step by dt / lag each reading', () => {
    const sim = simulator({
      setpoint: { mean: 0, schedule: { days: ['mon'], from: '01:00', to: '23:00', on: 10, off: 0 } },
      zone: { mean: 0, dependsOn: { setpoint: 1 }, lagSeconds: 600 },
    });
    expect(sim.next(MONDAY, 60).zone).toBe(0);
    expect(sim.next(MONDAY + HOUR, 60).zone).toBeCloseTo(1, 9);
    expect(sim.next(MONDAY + HOUR + 60_000, 60).zone).toBeCloseTo(1.9, 9);
  });

  it('GIVEN a wander THEN its spread is the one declared, whatever the reading interval', () => {
    for (const dt of [1, 60]) {
      const sim = simulator({ x: { mean: 0, wander: { std: 2, revertSeconds: 600 } } }, {}, 7);
      const values = Array.from({ length: 40_000 }, (_, i) => sim.next(MONDAY + i * dt * 1000, dt).x ?? 0);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(std).toBeGreaterThan(1.6);
      expect(std).toBeLessThan(2.4);
    }
  });

  it('GIVEN the same seed THEN the same readings; another seed, another device level', () => {
    const measures = { x: { mean: 10, noise: 1, deviceSpread: 3 } };
    const a = simulator(measures, {}, 3);
    const b = simulator(measures, {}, 3);
    const c = simulator(measures, {}, 4);
    const read = (sim: ManifestSimulator) => [0, 1, 2].map((i) => sim.next(MONDAY + i * 1000).x);
    expect(read(a)).toEqual(read(b));
    expect(read(c)).not.toEqual(read(simulator(measures, {}, 3)));
  });

  it('GIVEN faults THEN stuck holds, a drift grows to its cap, offset and scale apply, and the dependents see the faulted value', () => {
    const sim = simulator(
      {
        valve: { mean: 40, daily: { amplitude: 10, peakHour: 12 } },
        power: { mean: 10, dependsOn: { valve: 0.5 } },
        supply: { mean: 14 },
      },
      {
        faults: [
          { id: 'stuck', description: 'Stuck.', effects: [{ measure: 'valve', stuck: true }] },
          {
            id: 'fouled',
            description: 'Fouled.',
            effects: [
              { measure: 'supply', driftPerHour: 1, maxDrift: 3 },
              { measure: 'power', scale: 2, offset: 1 },
            ],
          },
        ],
      },
    );
    const start = MONDAY + 6 * HOUR;
    const before = sim.next(start);
    sim.inject('stuck', start);
    sim.inject('fouled', start);
    const held = sim.next(start).valve;
    expect(held).toBeCloseTo(before.valve ?? 0, 9);
    const later = sim.next(start + 2 * HOUR);
    expect(later.valve).toBe(held);
    expect(later.supply).toBeCloseTo(16, 9);
    // The dependent is computed from the stuck valve, then scaled and shifted.
    expect(later.power).toBeCloseTo((10 + 0.5 * ((held ?? 0) - 40)) * 2 + 1, 9);
    expect(sim.next(start + 10 * HOUR).supply).toBeCloseTo(17, 9);
    expect(() => {
      sim.inject('flood', start);
    }).toThrow('unknown fault "flood" (declared: stuck, fouled)');
  });

  it('GIVEN a practice acting while the schedule is off THEN it bends only nights, and stopping it (a recommendation applied) ends it', () => {
    const sim = simulator(
      { setpoint: { mean: 22, schedule: { days: ['mon'], from: '08:00', to: '18:00', on: 0, off: 4 } } },
      {
        practices: [
          {
            id: 'no-setback',
            description: 'x',
            effects: [{ measure: 'setpoint', offset: -4, whileScheduleOff: true }],
          },
        ],
      },
    );
    expect(sim.faultIds).toEqual([]);
    expect(sim.practiceIds).toEqual(['no-setback']);
    sim.inject('no-setback', MONDAY);
    expect(sim.next(MONDAY + 2 * HOUR).setpoint).toBe(22); // night: 26, set back no more
    expect(sim.next(MONDAY + 10 * HOUR).setpoint).toBe(22); // day: untouched
    sim.stop('no-setback');
    expect(sim.next(MONDAY + 20 * HOUR).setpoint).toBe(26);
  });

  it('GIVEN a range THEN readings stay within it', () => {
    const sim = simulator({ clamped: { mean: 5, daily: { amplitude: 50, peakHour: 0 } } });
    expect(sim.next(MONDAY).clamped).toBe(10);
    expect(sim.next(MONDAY + 12 * HOUR).clamped).toBe(0);
  });

  it('GIVEN ties in a circle or to nothing THEN the order says which', () => {
    expect(evaluationOrder({ a: { dependsOn: { b: 1 } }, b: { dependsOn: {} } })).toEqual({
      order: ['b', 'a'],
    });
    expect(
      evaluationOrder({ a: { dependsOn: { b: 1 } }, b: { dependsOn: { c: 1 } }, c: { dependsOn: { a: 1 } } }),
    ).toEqual({ problem: { measure: 'a', message: 'depends on itself through a -> b -> c -> a' } });
    expect(evaluationOrder({ a: { dependsOn: { ghost: 1 } } })).toEqual({
      problem: { measure: 'a', message: 'depends on "ghost", which is not simulated' },
    });
  });
});

describe("a manifest's simulation section", () => {
  const problemsOf = (text: string) => fileProblems(() => parseManifest(text, FILE, repoContracts));

  it('GIVEN the shipped HVAC manifest THEN it parses, and compiled into a function it parses back to itself', () => {
    const manifest = parseManifest(shipped, FILE, repoContracts);
    expect(manifest.simulation?.faults.map((fault) => fault.id)).toEqual([
      'stuck-valve',
      'fouled-coil',
      'schedule-override',
    ]);
    expect(parseManifestDocument(manifestDocument(manifest), 'hvac-energy', repoContracts)).toEqual(manifest);
  });

  it.each([
    [
      'a measure the contract does not have',
      ['    occupancy:\n      mean: 0', '    humidity:\n      mean: 40\n    occupancy:\n      mean: 0'],
      'simulation.measures.humidity: "humidity" is not a measure of hvac.telemetry@1',
    ],
    [
      'a required measure left out',
      ['    fanSpeed:\n', '    fanSpeedX:\n'],
      'hvac.telemetry@1 requires "fanSpeed": simulated devices would send invalid readings',
    ],
    [
      'a cycle of ties',
      ['      dependsOn: { occupancy: 0.1 }', '      dependsOn: { occupancy: 0.1, electricalPower: 0.1 }'],
      'depends on itself through',
    ],
    [
      'a fault on a measure not simulated',
      ['        - { measure: fanSpeed, offset: 45 }', '        - { measure: humidity, offset: 45 }'],
      'simulation.faults[2].effects[0].measure: "humidity" is not a simulated measure',
    ],
    [
      'an effect that does nothing',
      ['        - { measure: fanSpeed, offset: 45 }', '        - { measure: fanSpeed }'],
      'an effect needs one of stuck, offset, driftPerHour, scale, noise',
    ],
    ['a schedule time that is no time', ["from: '07:30'", "from: '7.30'"], 'must be a time of day "HH:MM"'],
    [
      'a flat-line exception that is no sensor',
      ['ignore: [measures.zoneSetpoint', 'ignore: [measures.humidity'],
      'drift.flatLine.ignore[0]: "measures.humidity" is not a sensor of this use case',
    ],
  ])('GIVEN %s THEN it is refused where it is written', (_, [from, to], message) => {
    expect(shipped).toContain(from);
    expect(problemsOf(shipped.replace(from ?? '', to ?? '')).join('\n')).toContain(message);
  });
});
