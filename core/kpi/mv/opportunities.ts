import { z } from 'zod';
import { DAY_MS, type KpiReads } from '../kpi.ts';

/**
 * Supervisory savings found in the data, after the sequences of ASHRAE Guideline 36: a unit that
 * runs its fans when the zone is empty, or does not set its setpoint back. Fault detection alone
 * saves about 7% of HVAC energy in published field trials; schedules and setbacks are where the
 * rest of the 12-18% is. Each finding is a recommendation with its yearly kWh and cost, estimated
 * from the unit's measured power in empty hours against the fleet's typical unit in the same hours.
 */

const field = z.string().regex(/^measures\.[A-Za-z][A-Za-z0-9]*$/, 'must be a sensor field');

export const opportunitiesSpecSchema = z.strictObject({
  /** The units' electrical power, kW. */
  power: field,
  /** Occupancy (percent): an hour whose mean is below `emptyBelow` is an empty hour. */
  occupancy: z.strictObject({ field, emptyBelow: z.number().min(0).default(5) }),
  pricePerKwh: z.number().positive(),
  /** The currency of `pricePerKwh`. @default EUR */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "EUR"')
    .default('EUR'),
  rules: z.strictObject({
    /** Fans in empty hours more than `marginPct` points above the fleet's median unit. */
    fansAfterHours: z.strictObject({ field, marginPct: z.number().positive().default(15) }).optional(),
    /** A setpoint raised by less than `minDegrees` in empty hours than in occupied ones. */
    setback: z.strictObject({ field, minDegrees: z.number().positive().default(1) }).optional(),
    /**
     * Supply air held cold at low load: in occupied hours with the outdoor air (`outdoor`) below
     * `mildBelow`, the unit's median supply-air temperature below the fleet's median unit's by
     * more than `marginDegrees` and by a modified z-score above `outlierZ` (Iglewicz and Hoaglin's
     * 3.5: units differ among themselves more than their sensors do). Guideline 36 resets it up
     * toward 18 °C as the cooling load falls.
     */
    supplyAirReset: z
      .strictObject({
        field,
        outdoor: field,
        mildBelow: z.number().default(21),
        marginDegrees: z.number().positive().default(1.5),
        outlierZ: z.number().positive().default(3.5),
      })
      .optional(),
  }),
});
export type OpportunitiesSpec = z.output<typeof opportunitiesSpecSchema>;

export type OpportunityRule = keyof OpportunitiesSpec['rules'];

export interface Opportunity {
  readonly id: string;
  readonly rule: OpportunityRule;
  readonly deviceId: string;
  /** What the data shows, and what to change. */
  readonly finding: string;
  readonly recommendation: string;
  readonly kwhPerYear: number;
  readonly costPerYear: number;
}

/** One unit's hourly means, by field, over the analysis window. */
export type UnitHours = ReadonlyMap<string, readonly Readonly<Record<string, number>>[]>;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0
    ? Number.NaN
    : sorted.length % 2 === 1
      ? (sorted[middle] ?? Number.NaN)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
const HOURS_PER_YEAR = 8760;

interface UnitProfile {
  readonly deviceId: string;
  readonly empty: readonly Readonly<Record<string, number>>[];
  readonly occupied: readonly Readonly<Record<string, number>>[];
  readonly hours: number;
}

/** The recommendations the data supports, with their yearly estimates; largest first. */
export function findOpportunities(spec: OpportunitiesSpec, units: UnitHours): Opportunity[] {
  const profiles: UnitProfile[] = [...units].map(([deviceId, hours]) => ({
    deviceId,
    hours: hours.length,
    empty: hours.filter((hour) => (hour[spec.occupancy.field] ?? Infinity) < spec.occupancy.emptyBelow),
    occupied: hours.filter((hour) => (hour[spec.occupancy.field] ?? -Infinity) >= spec.occupancy.emptyBelow),
  }));
  const emptyPower = (profile: UnitProfile) =>
    mean(profile.empty.map((hour) => hour[spec.power] ?? Number.NaN));
  const fleetEmptyPower = median(profiles.map(emptyPower).filter(Number.isFinite));
  const yearly = (profile: UnitProfile) => {
    // The unit's extra power in its empty hours, over the share of the year they make up.
    const excessKw = Math.max(0, emptyPower(profile) - fleetEmptyPower);
    const kwh = excessKw * (profile.empty.length / Math.max(1, profile.hours)) * HOURS_PER_YEAR;
    return { kwhPerYear: Math.round(kwh), costPerYear: Math.round(kwh * spec.pricePerKwh) };
  };
  const found: Opportunity[] = [];
  const fans = spec.rules.fansAfterHours;
  if (fans) {
    const fleetFan = median(
      profiles
        .map((profile) => median(profile.empty.map((hour) => hour[fans.field] ?? Number.NaN)))
        .filter(Number.isFinite),
    );
    for (const profile of profiles) {
      const fan = median(profile.empty.map((hour) => hour[fans.field] ?? Number.NaN));
      if (!(fan - fleetFan > fans.marginPct)) continue;
      found.push({
        id: `fansAfterHours/${profile.deviceId}`,
        rule: 'fansAfterHours',
        deviceId: profile.deviceId,
        finding: `fans at ${fan.toFixed(0)}% in ${profile.empty.length} empty hours, where the fleet's median unit runs ${fleetFan.toFixed(0)}%`,
        recommendation:
          'Restore the occupancy schedule: fans off or at minimum outside occupied hours (ASHRAE Guideline 36, zone occupancy modes).',
        ...yearly(profile),
      });
    }
  }
  const setback = spec.rules.setback;
  if (setback) {
    for (const profile of profiles) {
      const empty = median(profile.empty.map((hour) => hour[setback.field] ?? Number.NaN));
      const occupied = median(profile.occupied.map((hour) => hour[setback.field] ?? Number.NaN));
      if (!(empty - occupied < setback.minDegrees)) continue;
      found.push({
        id: `setback/${profile.deviceId}`,
        rule: 'setback',
        deviceId: profile.deviceId,
        finding: `setpoint ${empty.toFixed(1)} °C in empty hours against ${occupied.toFixed(1)} °C occupied: no setback`,
        recommendation:
          'Set the cooling setpoint back in unoccupied mode (ASHRAE Guideline 36: unoccupied setpoints a few degrees wider).',
        ...yearly(profile),
      });
    }
  }
  found.push(...supplyAirResetOpportunities(spec, profiles));
  return found
    .filter((opportunity) => opportunity.kwhPerYear > 0)
    .sort((a, b) => b.kwhPerYear - a.kwhPerYear);
}

/**
 * Units whose supply air stays cold in mild occupied hours, against the fleet's median unit; each
 * estimated from its extra power in those hours over the fleet's median unit's.
 */
function supplyAirResetOpportunities(
  spec: OpportunitiesSpec,
  profiles: readonly UnitProfile[],
): Opportunity[] {
  const rule = spec.rules.supplyAirReset;
  if (!rule) return [];
  const mild = (profile: UnitProfile) =>
    profile.occupied.filter((hour) => (hour[rule.outdoor] ?? Infinity) < rule.mildBelow);
  const medianOf = (profile: UnitProfile, name: string) =>
    median(mild(profile).map((hour) => hour[name] ?? Number.NaN));
  const meanPower = (profile: UnitProfile) =>
    mean(mild(profile).map((hour) => hour[spec.power] ?? Number.NaN));
  const supplies = profiles.map((profile) => medianOf(profile, rule.field)).filter(Number.isFinite);
  const fleetSupply = median(supplies);
  // The modified z-score's scale: the median absolute deviation over 0.6745 (a normal's MAD).
  const spread = median(supplies.map((value) => Math.abs(value - fleetSupply))) / 0.6745;
  const fleetPower = median(profiles.map(meanPower).filter(Number.isFinite));
  return profiles.flatMap((profile) => {
    const supply = medianOf(profile, rule.field);
    const below = fleetSupply - supply;
    if (!(below > rule.marginDegrees && below > rule.outlierZ * spread)) return [];
    const hours = mild(profile).length;
    const kwh =
      Math.max(0, meanPower(profile) - fleetPower) * (hours / Math.max(1, profile.hours)) * HOURS_PER_YEAR;
    return [
      {
        id: `supplyAirReset/${profile.deviceId}`,
        rule: 'supplyAirReset' as const,
        deviceId: profile.deviceId,
        finding: `supply air at ${supply.toFixed(1)} °C in ${hours} mild occupied hours (outdoor below ${rule.mildBelow} °C), where the fleet's median unit supplies ${fleetSupply.toFixed(1)} °C: not reset at low load`,
        recommendation:
          'Reset the supply-air temperature setpoint up as the cooling load falls (ASHRAE Guideline 36, supply-air temperature trim and respond, toward 18 °C in mild weather).',
        kwhPerYear: Math.round(kwh),
        costPerYear: Math.round(kwh * spec.pricePerKwh),
      },
    ];
  });
}

/** The fields the rules read. */
export function opportunityFields(spec: OpportunitiesSpec): string[] {
  return [
    ...new Set([
      spec.power,
      spec.occupancy.field,
      ...Object.values(spec.rules).flatMap((rule) =>
        'outdoor' in rule ? [rule.field, rule.outdoor] : [rule.field],
      ),
    ]),
  ];
}

/** Each unit's hourly means over [from, to), read a day at a time. */
export async function unitHours(
  useCase: string,
  spec: OpportunitiesSpec,
  reads: KpiReads,
  from: number,
  to: number,
): Promise<Map<string, Record<string, number>[]>> {
  const fields = opportunityFields(spec);
  const units = new Map<string, Record<string, number>[]>();
  for (let day = from; day < to; day += DAY_MS) {
    const sums = new Map<string, { values: Record<string, number>; counts: Record<string, number> }>();
    for (const reading of await reads.readings(useCase, fields, day, Math.min(to, day + DAY_MS))) {
      const key = `${reading.deviceId}@${Math.floor(reading.time / 3_600_000)}`;
      const bucket = sums.get(key) ?? { values: {}, counts: {} };
      sums.set(key, bucket);
      for (const name of fields) {
        const value = reading.values[name];
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        bucket.values[name] = (bucket.values[name] ?? 0) + value;
        bucket.counts[name] = (bucket.counts[name] ?? 0) + 1;
      }
    }
    for (const [key, bucket] of sums) {
      const deviceId = key.slice(0, key.lastIndexOf('@'));
      // An hour counts when every field was read in it.
      if (!fields.every((name) => (bucket.counts[name] ?? 0) > 0)) continue;
      const hour = Object.fromEntries(
        fields.map((name) => [name, (bucket.values[name] ?? 0) / (bucket.counts[name] ?? 1)]),
      );
      const list = units.get(deviceId) ?? [];
      units.set(deviceId, list);
      list.push(hour);
    }
  }
  return units;
}

/** Days of recent data the recommendations look at: two weeks hold two of every weekday. */
export const OPPORTUNITY_DAYS = 14;

/** A use case's recommendations over the full days of the last two weeks before `now`. */
export async function recentOpportunities(
  useCase: string,
  spec: OpportunitiesSpec,
  reads: KpiReads,
  now: number,
): Promise<Opportunity[]> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return findOpportunities(
    spec,
    await unitHours(useCase, spec, reads, today - OPPORTUNITY_DAYS * DAY_MS, today),
  );
}
