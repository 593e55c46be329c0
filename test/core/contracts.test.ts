import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contractJsonSchema, contractJsonSchemaFileName } from '../../core/contracts/json-schema.ts';
import { pumpTelemetryV1, repoContracts } from '../support/contracts.ts';
import {
  ContractFileError,
  parseContractDocument,
  parseContractFile,
} from '../../core/contracts/document.ts';
import { ContractRegistry } from '../../core/contracts/registry.ts';
import { CONTRACTS_DIR, loadContracts } from '../../contracts/catalog.ts';
import { tmpdir } from 'node:os';
import { formatReason, reasonsFromZod } from '../../core/contracts/reasons.ts';
import { fileProblems } from '../support/file-problems.ts';
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
    expect(() => repoContracts.get('pump.telemetry@9')).toThrow(
      'Unknown data contract "pump.telemetry@9". Known: hvac.telemetry@1, pump.telemetry@1, pump.telemetry@2',
    );
  });

  it('keeps the checked-in JSON Schema of every contract in step with the code', () => {
    for (const contract of repoContracts.all()) {
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

describe('contract files', () => {
  const v1File = readFileSync(
    path.join(import.meta.dirname, '..', '..', 'contracts', 'pump.telemetry.v1.yaml'),
    'utf8',
  );

  const problemsOf = (text: string, file = 'contracts/pump.telemetry.v1.yaml') =>
    fileProblems(() => parseContractFile(text, file));

  it('GIVEN the shipped file THEN it is the contract the stores and devices use', () => {
    const contract = parseContractFile(v1File, 'contracts/pump.telemetry.v1.yaml');
    expect(contract.ref).toBe('pump.telemetry@1');
    expect(contract.measures.flowRate).toEqual({
      unit: 'l/min',
      min: 0,
      max: 20000,
      column: 'flow_rate',
      description: 'Volumetric flow rate at the outlet.',
    });
    expect(contract.schema.safeParse(contract.example()).success).toBe(true);
  });

  it('GIVEN a measure without a column THEN its column is its name in snake_case', () => {
    const contract = parseContractFile(
      v1File.replace('    column: motor_current\n', ''),
      'pump.telemetry.v1.yaml',
    );
    expect(contract.measures.motorCurrent?.column).toBe('motor_current');
  });

  it('GIVEN every kind of mistake THEN each is named with its line, path and the bad value', () => {
    const text = v1File
      .replace('envelope: telemetry@1', 'envelope: telemetry@9')
      .replace('range: { min: 0, max: 400 }', 'range: { min: 400, max: 0 }')
      .replace('column: outlet_pressure', 'column: time')
      .replace('column: fluid_temperature', 'column: motor_temperature')
      .replace('example: 236', 'example: 2360')
      .replace('column: flow_rate', 'column: Flow-Rate');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^contracts\/pump.telemetry.v1.yaml:\d+:\d+ envelope: must be "telemetry@1"/),
      expect.stringMatching(/:\d+:\d+ measures.flowRate.column: must be a store column/),
    ]);
    // The checks past the schema run once the file has the right shape.
    expect(
      problemsOf(
        text.replace('envelope: telemetry@9', 'envelope: telemetry@1').replace('Flow-Rate', 'flow_rate'),
      ),
    ).toEqual([
      expect.stringContaining('measures.motorCurrent.range: min must be below max, got 400..0'),
      expect.stringContaining('measures.outletPressure.column: column "time" is the stores\' own'),
      expect.stringContaining(
        'measures.fluidTemperature.column: column "motor_temperature" is motorTemperature\'s already',
      ),
      expect.stringContaining('measures.supplyVoltage.example: 2360 is outside the range 0..1000 V'),
    ]);
  });

  it('GIVEN a file named for another version THEN it is refused: the name is how devices find it', () => {
    expect(problemsOf(v1File, 'contracts/pump.telemetry.v2.yaml')).toEqual([
      expect.stringContaining(
        'id: pump.telemetry@1 belongs in "pump.telemetry.v1.yaml", not "pump.telemetry.v2.yaml"',
      ),
    ]);
  });

  it('GIVEN YAML that is not a contract THEN the syntax error has its line', () => {
    expect(problemsOf('id: [unclosed')[0]).toMatch(/YAML syntax/);
    expect(() => parseContractFile('id: [unclosed', 'x.yaml')).toThrow(ContractFileError);
  });

  it('GIVEN two contracts that store different units in one column THEN the registry refuses them', () => {
    const other = parseContractDocument(
      {
        id: 'fan.telemetry',
        version: 1,
        envelope: 'telemetry@1',
        description: 'Fan.',
        measures: {
          flow: {
            unit: 'm3/h',
            range: { min: 0, max: 10 },
            column: 'flow_rate',
            description: 'Air.',
            example: 1,
          },
        },
      },
      'fan',
    );
    expect(() => new ContractRegistry([pumpTelemetryV1, other])).toThrow(
      'fan.telemetry@1 stores flow in column "flow_rate" in "m3/h", but pump.telemetry@1 stores "l/min" there: give it another column',
    );
    expect(() => new ContractRegistry([pumpTelemetryV1, pumpTelemetryV1])).toThrow('defined twice');
  });

  it('GIVEN a contract compiled into a function THEN it parses back to the same contract', () => {
    for (const contract of repoContracts.all()) {
      const back = parseContractDocument(JSON.parse(JSON.stringify(contract.document)), contract.ref);
      expect(back.measures).toEqual(contract.measures);
      expect(back.example()).toEqual(contract.example());
    }
    expect(() => parseContractDocument({ id: 'x' }, 'AIOT_CONTRACTS[0]')).toThrow(
      /AIOT_CONTRACTS\[0\] is not a valid data contract/,
    );
  });
});

describe('loading the contracts folder', () => {
  it('GIVEN a new contract file in a folder THEN it is known without any code', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-contracts-'));
    for (const contract of repoContracts.all()) {
      const name = `${contract.id}.v${contract.version}.yaml`;
      writeFileSync(path.join(dir, name), readFileSync(path.join(CONTRACTS_DIR, name)));
    }
    writeFileSync(
      path.join(dir, 'fan.telemetry.v1.yaml'),
      'id: fan.telemetry\nversion: 1\nenvelope: telemetry@1\ndescription: Fan.\nmeasures:\n  speed: { unit: rpm, range: { min: 0, max: 5000 }, description: Shaft speed., example: 900 }\n',
    );
    expect(loadContracts(dir).refs).toEqual([
      'fan.telemetry@1',
      'hvac.telemetry@1',
      'pump.telemetry@1',
      'pump.telemetry@2',
    ]);
  });

  it('GIVEN an oversized file THEN it is refused before it is parsed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aiot-contracts-'));
    writeFileSync(path.join(dir, 'huge.v1.yaml'), `# ${'x'.repeat(300 * 1024)}\n`);
    expect(() => loadContracts(dir)).toThrow(
      /huge.v1.yaml is \d+ bytes; a contract file may have at most 262144/,
    );
  });
});
