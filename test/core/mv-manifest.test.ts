import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findOpportunities, opportunitiesSpecSchema } from '../../core/kpi/mv/opportunities.ts';
import { parseManifest } from '../../core/usecase/manifest.ts';
import { repoContracts } from '../support/contracts.ts';
import { fileProblems } from '../support/file-problems.ts';

const FILE = 'usecases/hvac-energy.yaml';
const shipped = readFileSync(path.join(import.meta.dirname, '..', '..', FILE), 'utf8');
const problemsOf = (text: string) => fileProblems(() => parseManifest(text, FILE, repoContracts));

describe('M&V baselines in a manifest', () => {
  it('GIVEN the shipped HVAC manifest THEN its cost KPI has a daily change-point baseline on weather and occupancy', () => {
    const kpi = parseManifest(shipped, FILE, repoContracts).kpis.find((k) => k.id === 'hvac-energy-cost');
    expect(kpi?.mv).toMatchObject({
      baselinePeriod: { firstDays: 21 },
      interval: 'day',
      form: 'cooling-change-point',
      changePointOn: 'outdoorTemperature',
    });
  });

  it.each([
    [
      'a baseline on a rate, which is normalized already',
      (text: string) =>
        text.replace(
          '      baseTemperature: 18\n',
          '      baseTemperature: 18\n    mv: { baselinePeriod: { firstDays: 14 }, variables: {} }\n',
        ),
      /kpis\[1\]\.mv: a baseline model predicts a quantity that adds up .* this KPI is a rate/,
    ],
    [
      'a change point on a variable it does not declare',
      (text: string) => text.replace('changePointOn: outdoorTemperature', 'changePointOn: humidity'),
      /kpis\[0\]\.mv\.changePointOn: a cooling-change-point model needs changePointOn, one of its variables \(outdoorTemperature, occupancy\)/,
    ],
    [
      'a variable the use case does not collect',
      (text: string) =>
        text.replace(
          '{ field: measures.occupancy, aggregate: mean }',
          '{ field: measures.humidity, aggregate: mean }',
        ),
      /kpis\[0\]\.mv\.variables: "measures\.humidity" is not a sensor of this use case/,
    ],
    [
      'a baseline shorter than a week',
      (text: string) => text.replace('baselinePeriod: { firstDays: 21 }', 'baselinePeriod: { firstDays: 3 }'),
      /kpis\[0\]\.mv\.baselinePeriod/,
    ],
    [
      'a baseline that ends before it begins',
      (text: string) =>
        text.replace(
          'baselinePeriod: { firstDays: 21 }',
          "baselinePeriod: { from: '2026-06-30', to: '2026-06-01' }",
        ),
      /kpis\[0\]\.mv\.baselinePeriod\.to: "2026-06-01" is not after "2026-06-30"/,
    ],
    [
      'a practice acting while a schedule is off on a measure without one',
      (text: string) =>
        text.replace(
          '{ measure: zoneSetpoint, offset: -4, whileScheduleOff: true }',
          '{ measure: electricalPower, offset: 4, whileScheduleOff: true }',
        ),
      /"no-night-setback" acts on electricalPower while its schedule is off, but electricalPower has no schedule/,
    ],
  ])('GIVEN %s THEN the manifest is refused, saying why', (_, edit, message) => {
    const edited = edit(shipped);
    expect(edited).not.toBe(shipped);
    expect(problemsOf(edited)).toEqual([expect.stringMatching(message)]);
  });
});

describe('supervisory opportunities, by hand', () => {
  const spec = opportunitiesSpecSchema.parse({
    power: 'measures.p',
    occupancy: { field: 'measures.o' },
    pricePerKwh: 0.2,
    rules: { fansAfterHours: { field: 'measures.f' }, setback: { field: 'measures.s' } },
  });
  /** A day of hours: 10 occupied (o 50), 14 empty (o 0), with the unit's empty-hour fan, setpoint and power. */
  const day = (emptyFan: number, emptySetpoint: number, emptyPower: number) => [
    ...Array.from({ length: 10 }, () => ({
      'measures.o': 50,
      'measures.f': 60,
      'measures.s': 22,
      'measures.p': 30,
    })),
    ...Array.from({ length: 14 }, () => ({
      'measures.o': 0,
      'measures.f': emptyFan,
      'measures.s': emptySetpoint,
      'measures.p': emptyPower,
    })),
  ];

  it('GIVEN one unit running its fans after hours and one never setting back THEN each is found, with the excess over the median unit for the empty share of a year', () => {
    const units = new Map([
      ['ahu-1', day(20, 26, 10)],
      ['ahu-2', day(20, 26, 10)],
      ['ahu-3', day(55, 26, 22)], // fans 35 points above the fleet, 12 kW more
      ['ahu-4', day(20, 22.5, 14)], // setpoint only 0.5 °C up: no setback, 4 kW more
    ]);
    // Median empty power of 10, 10, 22, 14 is 12: ahu-3 is 10 kW above it, ahu-4 2 kW;
    // empty hours are 14 of 24, so a year holds 8760 × 14/24 = 5110 of them.
    expect(findOpportunities(spec, units)).toEqual([
      expect.objectContaining({
        deviceId: 'ahu-3',
        rule: 'fansAfterHours',
        kwhPerYear: 51_100,
        costPerYear: 10_220,
      }),
      expect.objectContaining({ deviceId: 'ahu-4', rule: 'setback', kwhPerYear: 10_220, costPerYear: 2044 }),
    ]);
  });

  it('GIVEN a unit whose supply air stays cold in mild occupied hours THEN it is found, but not one a degree below the fleet, one cold only in hot hours, or one within a fleet that differs as widely', () => {
    const withReset = opportunitiesSpecSchema.parse({
      ...spec,
      rules: { supplyAirReset: { field: 'measures.t', outdoor: 'measures.oat' } },
    });
    /** 6 mild occupied hours (18 °C outside), 4 hot ones (26 °C), 14 empty: supply air and power by kind. */
    const hours = (mild: { t: number; p: number }, hotSupply = 13) => [
      ...Array.from({ length: 6 }, () => ({
        'measures.o': 50,
        'measures.oat': 18,
        'measures.t': mild.t,
        'measures.p': mild.p,
      })),
      ...Array.from({ length: 4 }, () => ({
        'measures.o': 50,
        'measures.oat': 26,
        'measures.t': hotSupply,
        'measures.p': 40,
      })),
      ...Array.from({ length: 14 }, () => ({
        'measures.o': 0,
        'measures.oat': 15,
        'measures.t': 18,
        'measures.p': 10,
      })),
    ];
    const units = new Map([
      ['ahu-1', hours({ t: 16, p: 30 })],
      ['ahu-2', hours({ t: 16, p: 30 })],
      ['ahu-3', hours({ t: 13, p: 34 })], // 3 °C below the fleet's 16 °C when mild, 4 kW more
      ['ahu-4', hours({ t: 15, p: 30 })], // 1 °C below: within the 1.5 °C margin
      ['ahu-5', hours({ t: 16, p: 30 }, 11)], // cold only in hot hours, where no reset is due
    ]);
    // 4 kW over the fleet's median unit for 6 hours of 24: 4 × 8760 × 6/24 = 8760 kWh a year.
    expect(findOpportunities(withReset, units)).toEqual([
      expect.objectContaining({
        deviceId: 'ahu-3',
        rule: 'supplyAirReset',
        kwhPerYear: 8760,
        costPerYear: 1752,
      }),
    ]);
    // A fleet whose units differ widely: 2.1 °C below its median unit is within its spread (the
    // median absolute deviation is 2 °C: a modified z-score of 0.7, not above 3.5).
    const spread = new Map(
      [13, 14, 15, 16, 17, 18, 12.9].map((t, index) => [
        `ahu-${index}`,
        hours({ t, p: t === 12.9 ? 34 : 30 }),
      ]),
    );
    expect(findOpportunities(withReset, spread)).toEqual([]);
  });

  it('GIVEN a fleet that runs alike THEN nothing is recommended', () => {
    const units = new Map(['a', 'b', 'c'].map((id) => [id, day(20, 26, 10)]));
    expect(findOpportunities(spec, units)).toEqual([]);
  });
});
