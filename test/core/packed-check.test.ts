import { describe, expect, it } from 'vitest';
import type { ContractCheck } from '../../core/contracts/contract.ts';
import { reasonsFromZod } from '../../core/contracts/reasons.ts';
import { pumpTelemetryV2 } from '../support/contracts.ts';

const contract = pumpTelemetryV2;
const { timestamp, seq, measures, ...goodShared } = contract.example();
const goodOwn = { timestamp, seq, measures };

/** What a check says, in the form ingest reports and quarantines it. */
function outcome(check: ContractCheck) {
  return check.success
    ? { success: true, data: check.data }
    : { success: false, reasons: reasonsFromZod(check.issues) };
}

/** The check of a pack with these shared fields; a pack the split check leaves alone fails the test. */
function packedCheck(shared: Record<string, unknown>) {
  const check = contract.packedCheck(shared);
  if (!check) throw new Error('the shared fields were left to the whole check');
  return check;
}

function whole(message: unknown) {
  const parsed = contract.schema.safeParse(message, { reportInput: true });
  return outcome(parsed.success ? parsed : { success: false, issues: parsed.error.issues });
}

describe("a pack's readings checked with the shared fields once", () => {
  // Each case: the pack's shared fields and one reading's own, good or hostile on either side.
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['a good reading', goodShared, goodOwn],
    ['another thing name', { ...goodShared, deviceId: 'pump 001/#' }, goodOwn],
    ['an unknown shared field', { ...goodShared, site: 'plant-7', zone: 3 }, goodOwn],
    ['a firmware with a lone surrogate', { ...goodShared, firmware: '1.\ud8004' }, goodOwn],
    ['another version', { ...goodShared, version: 9 }, goodOwn],
    ['no firmware', { ...goodShared, firmware: undefined }, goodOwn],
    ['a measure out of range', goodShared, { ...goodOwn, measures: { ...measures, flowRate: -5 } }],
    ['an unknown measure', goodShared, { ...goodOwn, measures: { ...measures, torque: 1 } }],
    ['no measures', goodShared, { timestamp, seq }],
    ['nothing of its own', goodShared, {}],
    [
      'a timestamp without offset, a negative seq',
      goodShared,
      { ...goodOwn, timestamp: '2026-01-15 08:30', seq: -1 },
    ],
    [
      'faults on both sides',
      { ...goodShared, deviceId: '', hardwareGeneration: 7, extra: true },
      { timestamp: 5, seq: 1.5, measures: { ...measures, vibrationRmsX: 'high' } },
    ],
  ])('GIVEN %s THEN the reasons and the message are those of the whole message', (_, shared, own) => {
    expect(outcome(packedCheck(shared)(own))).toEqual(whole({ ...shared, ...own }));
  });

  it('GIVEN shared fields with a default for its readings THEN the pack is left to the whole check', () => {
    expect(contract.packedCheck({ ...goodShared, timestamp })).toBeUndefined();
    expect(contract.packedCheck({ ...goodShared, measures: {} })).toBeUndefined();
  });

  it('GIVEN a reading with faults on both sides THEN the reasons list each fault, in the order of the fields', () => {
    const check = packedCheck({ ...goodShared, deviceId: '', extra: true });
    const result = outcome(check({ ...goodOwn, seq: -1 }));
    expect(result.success).toBe(false);
    expect(result.reasons?.map((r) => `${r.path} ${r.code}`)).toEqual([
      'deviceId invalid_format',
      'seq too_small',
      ' unrecognized_keys',
    ]);
  });
});
