import { describe, expect, it } from 'vitest';
import { compareContracts, type ChangeKind } from '../../core/contracts/compatibility.ts';
import type { MeasureSpec } from '../../core/contracts/contract.ts';
import { parseContractDocument } from '../../core/contracts/document.ts';
import { contractJsonSchema, publishedMeasures } from '../../core/contracts/json-schema.ts';
import { repoContracts } from '../support/contracts.ts';

const flow: MeasureSpec = { unit: 'l/min', min: 0, max: 5000, column: 'flow_rate', description: 'Flow.' };
const bearing: MeasureSpec = {
  unit: 'degC',
  min: -20,
  max: 200,
  column: 'bearing_temperature',
  description: 'Bearing.',
};
const current: MeasureSpec = {
  unit: 'A',
  min: 0,
  max: 400,
  column: 'motor_current',
  description: 'Current.',
};

function version(version: number, measures: Record<string, MeasureSpec>) {
  const document = {
    id: 'test.telemetry',
    version,
    envelope: 'telemetry@1',
    description: 'Test contract.',
    measures: Object.fromEntries(
      Object.entries(measures).map(([name, spec]) => [
        name,
        {
          unit: spec.unit,
          range: { min: spec.min, max: spec.max },
          column: spec.column,
          description: spec.description,
          optional: spec.optional ?? false,
          example: spec.min,
        },
      ]),
    ),
  };
  return parseContractDocument(document, `test.telemetry@${version}`);
}

const v1 = version(1, { flowRate: flow, motorCurrent: current });

describe('compareContracts', () => {
  it.each<[string, Record<string, MeasureSpec>, ChangeKind[], boolean]>([
    ['nothing changed', { flowRate: flow, motorCurrent: current }, [], true],
    [
      'a new optional measure',
      {
        flowRate: flow,
        motorCurrent: current,
        bearingTemperature: { ...bearing, optional: true },
      },
      ['measure-added'],
      true,
    ],
    [
      'a new required measure',
      {
        flowRate: flow,
        motorCurrent: current,
        bearingTemperature: bearing,
      },
      ['measure-added'],
      false,
    ],
    ['a wider range', { flowRate: { ...flow, max: 8000 }, motorCurrent: current }, ['range-widened'], true],
    [
      'a narrower range',
      { flowRate: { ...flow, max: 2000 }, motorCurrent: current },
      ['range-narrowed'],
      false,
    ],
    ['a measure removed', { flowRate: flow }, ['measure-removed'], false],
    [
      'a measure renamed (same column)',
      { volumeFlow: flow, motorCurrent: current },
      ['measure-renamed'],
      false,
    ],
    [
      'a changed unit',
      { flowRate: { ...flow, unit: 'm3/h' }, motorCurrent: current },
      ['unit-changed'],
      false,
    ],
    [
      'a changed column',
      { flowRate: { ...flow, column: 'flow' }, motorCurrent: current },
      ['column-changed'],
      false,
    ],
    [
      'a measure made optional',
      { flowRate: { ...flow, optional: true }, motorCurrent: current },
      ['became-optional'],
      true,
    ],
    [
      'a better description',
      { flowRate: { ...flow, description: 'Flow at the outlet.' }, motorCurrent: current },
      ['description-changed'],
      true,
    ],
  ])('GIVEN %s THEN the changes are %j, compatible: %s', (_what, measures, kinds, compatible) => {
    const comparison = compareContracts(v1, version(2, measures));
    expect(comparison.changes.map((c) => c.kind)).toEqual(kinds);
    expect(comparison.compatible).toBe(compatible);
    for (const change of comparison.changes) expect(change.reason).not.toBe('');
  });

  it('GIVEN the published JSON Schema of a contract THEN it reads back as the same measures, so only real changes count', () => {
    for (const contract of repoContracts.all()) {
      const published = {
        ref: contract.ref,
        measures: publishedMeasures(contractJsonSchema(contract), contract),
      };
      expect(compareContracts(published, contract)).toMatchObject({ changes: [], compatible: true });
    }
    const loose = version(2, { flowRate: flow, motorCurrent: { ...current, optional: true } });
    expect(publishedMeasures(contractJsonSchema(loose), loose).motorCurrent?.optional).toBe(true);
  });

  it('GIVEN pump.telemetry@2, the worked example THEN adding the optional bearing temperature is compatible', () => {
    expect(
      compareContracts(repoContracts.get('pump.telemetry@1'), repoContracts.get('pump.telemetry@2')),
    ).toMatchObject({
      compatible: true,
      changes: [{ kind: 'measure-added', measure: 'bearingTemperature', compatible: true }],
    });
    const v1Message = repoContracts.get('pump.telemetry@1').example();
    expect(repoContracts.get('pump.telemetry@2').schema.safeParse({ ...v1Message, version: 2 }).success).toBe(
      true,
    );
  });

  it('GIVEN a measure made required again THEN that breaks devices that leave it out', () => {
    const loose = version(2, { flowRate: { ...flow, optional: true }, motorCurrent: current });
    expect(compareContracts(loose, version(3, { flowRate: flow, motorCurrent: current })).changes).toEqual([
      expect.objectContaining({ kind: 'became-required', compatible: false }),
    ]);
  });

  it('GIVEN an optional measure THEN a message without it is valid, and one with it out of range is not', () => {
    const v2 = version(2, { flowRate: flow, motorCurrent: { ...current, optional: true } });
    const example = v2.example();
    const { motorCurrent: _left, ...withoutCurrent } = example.measures;
    expect(v2.schema.safeParse({ ...example, measures: withoutCurrent }).success).toBe(true);
    expect(
      v2.schema.safeParse({ ...example, measures: { ...withoutCurrent, motorCurrent: 900 } }).success,
    ).toBe(false);
  });
});
