import { describe, expect, it } from 'vitest';
import { collapseMissing, RefusalReporter } from '../../edge/refusal-reporter.ts';

describe('what the edge CLI says about refused readings', () => {
  it('GIVEN a line with one measure of eight THEN one reason names the seven it lacks', () => {
    const missing = ['vibrationRmsX', 'motorCurrent', 'supplyVoltage'].map(
      (m) => `measures.${m}: Invalid input: expected number, received undefined (missing)`,
    );
    expect(collapseMissing([...missing, 'measures.flowRate: above the physical range'])).toEqual([
      'missing measures vibrationRmsX, motorCurrent, supplyVoltage: every line carries each required measure of the contract',
      'measures.flowRate: above the physical range',
    ]);
    expect(collapseMissing([missing[0] ?? ''])).toEqual([missing[0]]);
  });

  it('GIVEN many refusals THEN the first ten are said with their reasons and the file, the rest counted', () => {
    const lines: string[] = [];
    const reporter = new RefusalReporter((line) => lines.push(line));
    reporter.file = '/var/lib/aiot-edge/pump-1/rejects.jsonl';
    for (let i = 0; i < 14; i++) reporter.say([`reason ${i}`, 'b', 'c', 'd']);
    reporter.flush();
    reporter.flush();
    expect(lines[0]).toBe(
      'refused a reading: reason 0; b; c; and 1 more (kept in /var/lib/aiot-edge/pump-1/rejects.jsonl)',
    );
    expect(lines).toHaveLength(12);
    expect(lines.at(-1)).toBe('refused 4 more readings (kept in /var/lib/aiot-edge/pump-1/rejects.jsonl)');
  });
});
