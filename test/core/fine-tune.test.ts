import { describe, expect, it } from 'vitest';
import { DEFAULT_FINE_TUNE, fineTuneDue, fineTuneSchema } from '../../core/model/fine-tune.ts';

const HOUR = 3600_000;
const NOW = Date.UTC(2026, 11, 7, 12);

describe('when false positives start a candidate', () => {
  it('GIVEN no verdict THEN nothing is due', () => {
    expect(fineTuneDue([], NOW, DEFAULT_FINE_TUNE)).toBeUndefined();
  });

  it('GIVEN fewer verdicts than the policy wants, all fresh THEN it waits; GIVEN enough THEN it is due, saying why', () => {
    expect(fineTuneDue([NOW - HOUR, NOW], NOW, DEFAULT_FINE_TUNE)).toBeUndefined();
    expect(fineTuneDue([NOW - 2 * HOUR, NOW - HOUR, NOW], NOW, DEFAULT_FINE_TUNE)).toBe(
      'fine-tuned by itself after 3 false-positive verdicts since the last candidate',
    );
  });

  it('GIVEN one verdict that waited a day THEN it is due', () => {
    expect(fineTuneDue([NOW - 23 * HOUR], NOW, DEFAULT_FINE_TUNE)).toBeUndefined();
    expect(fineTuneDue([NOW - 24 * HOUR], NOW, DEFAULT_FINE_TUNE)).toBe(
      'fine-tuned by itself: 1 false-positive verdict waited 24 h',
    );
  });

  it('GIVEN fine-tuning switched off THEN nothing is ever due', () => {
    const off = fineTuneSchema.parse({ enabled: false });
    expect(fineTuneDue([NOW - 48 * HOUR, NOW, NOW, NOW], NOW, off)).toBeUndefined();
  });

  it('GIVEN a policy out of range THEN it is refused, naming the setting', () => {
    const parsed = fineTuneSchema.safeParse({ afterVerdicts: 0 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['afterVerdicts']);
  });
});
