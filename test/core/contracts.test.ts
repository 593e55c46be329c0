import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractJsonSchema, contractJsonSchemaFileName } from '../../core/contracts/json-schema.ts';
import { pumpTelemetryV1 } from '../../core/contracts/pump-telemetry.ts';
import { formatReason, reasonsFromZod } from '../../core/contracts/reasons.ts';
import { contracts, getContract } from '../../core/contracts/registry.ts';
import { reading } from '../support/messages.ts';

function reasonsFor(payload: unknown): string[] {
  const result = pumpTelemetryV1.schema.safeParse(payload, { reportInput: true });
  return result.success ? [] : reasonsFromZod(result.error.issues).map(formatReason);
}

describe('pump.telemetry@1', () => {
  it('accepts its own example', () => {
    expect(reasonsFor(pumpTelemetryV1.example())).toEqual([]);
  });

  it('declares every pump measure with a unit and a physical range', () => {
    expect(Object.keys(pumpTelemetryV1.measures).sort()).toEqual([
      'flowRate',
      'fluidTemperature',
      'motorCurrent',
      'motorTemperature',
      'outletPressure',
      'supplyVoltage',
      'vibrationRmsX',
      'vibrationRmsY',
    ]);
    for (const spec of Object.values(pumpTelemetryV1.measures)) {
      expect(spec.unit).not.toBe('');
      expect(spec.min).toBeLessThan(spec.max);
    }
  });

  it('reports every problem of a bad payload, with the path and the offending value', () => {
    // GIVEN a payload with an out-of-range measure, a missing measure, a bad timestamp and an extra key
    const { flowRate: _dropped, ...measures } = reading().measures;
    const payload = {
      ...reading(),
      timestamp: 'yesterday',
      extra: true,
      measures: { ...measures, motorCurrent: 512 },
    };
    // WHEN it is validated
    const reasons = reasonsFor(payload);
    // THEN each problem is named
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^timestamp: .*\(got "yesterday"\)/),
        'measures.motorCurrent: above the physical range 0..400 A (got 512)',
        expect.stringMatching(/^measures\.flowRate: .*\(missing\)/),
        expect.stringContaining('Unrecognized key: "extra"'),
      ]),
    );
    expect(reasons).toHaveLength(4);
  });

  it('refuses a payload of another contract version', () => {
    expect(reasonsFor({ ...reading(), version: 2 })).toEqual([
      expect.stringMatching(/^version: .*\(got 2\)/),
    ]);
  });
});

describe('contract registry', () => {
  it('names the known contracts when asked for an unknown one', () => {
    expect(() => getContract('pump.telemetry@9')).toThrow(
      'Unknown data contract "pump.telemetry@9". Known: pump.telemetry@1',
    );
  });

  it('keeps the checked-in JSON Schema of every contract in step with the code', () => {
    for (const contract of contracts.values()) {
      const file = path.join(
        import.meta.dirname,
        '..',
        '..',
        'contracts',
        contractJsonSchemaFileName(contract),
      );
      const checkedIn = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      expect(checkedIn, `${file} is stale: run npm run contracts:generate`).toEqual(
        contractJsonSchema(contract),
      );
    }
  });
});
