import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseContractDocument } from '../../core/contracts/document.ts';
import { ContractRegistry } from '../../core/contracts/registry.ts';
import {
  acceptedContractRefs,
  ManifestError,
  manifestDocument,
  parseManifest,
  parseManifestDocument,
} from '../../core/usecase/manifest.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { repoContracts } from '../support/contracts.ts';
import { fileProblems } from '../support/file-problems.ts';

const FILE = 'usecases/pump-maintenance.yaml';
const shipped = readFileSync(path.join(import.meta.dirname, '..', '..', FILE), 'utf8');

function problemsOf(text: string, file = FILE, contracts: ContractRegistry = repoContracts): string[] {
  return fileProblems(() => parseManifest(text, file, contracts));
}

/** A contract of another kind of machine, to mix into a pump use case. */
function otherContract() {
  return parseContractDocument(
    {
      id: 'fan.telemetry',
      version: 1,
      envelope: 'telemetry@1',
      description: 'Fan.',
      measures: { speed: { unit: 'rpm', range: { min: 0, max: 5000 }, description: 'Speed.', example: 900 } },
    },
    'fan.telemetry@1',
  );
}

describe('use-case manifests', () => {
  it('accepts every shipped manifest', () => {
    const manifests = loadUseCases();
    expect(manifests.map((m) => m.id)).toContain('pump-maintenance');
  });

  it('maps every sensor and inference of the pump use case to a KPI with a target', () => {
    const manifest = parseManifest(shipped, FILE, repoContracts);
    const kpis = new Set(manifest.kpis.map((kpi) => kpi.id));
    for (const item of [...manifest.sensors, ...manifest.inferences]) expect(kpis).toContain(item.kpi);
    expect(manifest.kpis.find((kpi) => kpi.id === 'unplanned-downtime')?.target).toEqual({
      text: '-30%',
      low: -30,
      high: -30,
    });
  });

  it('GIVEN model settings in a manifest THEN only those it names are set: the others stay open to the choice from its data', () => {
    const hvac = loadUseCases().find((m) => m.id === 'hvac-energy');
    expect(hvac?.model?.params).toEqual({ smoothingWindow: 15 });
  });

  it('reads a target band', () => {
    const manifest = parseManifest(
      shipped.replace('target: -15%', 'target: -18% to -12%'),
      FILE,
      repoContracts,
    );
    expect(manifest.kpis[1]?.target).toEqual({ text: '-18% to -12%', low: -18, high: -12 });
  });

  it('names the file, line and path of a sensor whose KPI is unknown', () => {
    const problems = problemsOf(shipped.replace('kpi: maintenance-cost }', 'kpi: uptime }'));
    expect(problems).toEqual([
      expect.stringMatching(
        /^usecases\/pump-maintenance\.yaml:\d+:\d+ sensors\[4\]\.kpi: unknown KPI "uptime" \(known: unplanned-downtime/,
      ),
    ]);
  });

  it('refuses a sensor without a KPI', () => {
    const problems = problemsOf(shipped.replace(', kpi: maintenance-cost }', ' }'));
    expect(problems).toEqual([expect.stringMatching(/sensors\[4\]\.kpi: .*expected string/i)]);
  });

  it('refuses an inference without a known KPI', () => {
    const problems = problemsOf(
      shipped.replace('    kpi: unplanned-downtime\n\nstorage', '    kpi: happiness\n\nstorage'),
    );
    expect(problems).toEqual([expect.stringContaining('inferences[0].kpi: unknown KPI "happiness"')]);
  });

  it('GIVEN a downtime KPI whose silence is no longer than the edge heartbeat THEN it is refused, saying why', () => {
    const problems = problemsOf(shipped.replace('heartbeatSeconds: 60', 'heartbeatSeconds: 600'));
    expect(problems).toEqual([
      expect.stringMatching(
        /kpis\[0\]\.compute\.silentAfterMinutes: 10 minutes is not longer than the edge heartbeat \(600 s\)/,
      ),
    ]);
  });

  it('refuses an unknown contract', () => {
    expect(problemsOf(shipped.replace('contract: pump.telemetry@2', 'contract: pump.telemetry@7'))).toEqual([
      expect.stringContaining(
        'contract: unknown data contract "pump.telemetry@7" (known: hvac.telemetry@1, pump.telemetry@1, pump.telemetry@2)',
      ),
    ]);
  });

  describe('a migration window (alsoAccepts)', () => {
    it('GIVEN the shipped manifest THEN it accepts version 2 and, while pumps move over, version 1', () => {
      const manifest = parseManifest(shipped, FILE, repoContracts);
      expect(acceptedContractRefs(manifest)).toEqual(['pump.telemetry@2', 'pump.telemetry@1']);
    });

    it('GIVEN no alsoAccepts THEN only the current version is accepted', () => {
      const manifest = parseManifest(
        shipped.replace('alsoAccepts: [pump.telemetry@1]\n', ''),
        FILE,
        repoContracts,
      );
      expect(acceptedContractRefs(manifest)).toEqual(['pump.telemetry@2']);
    });

    it('GIVEN an unknown, repeated or foreign version THEN each is refused where it is written', () => {
      const contracts = new ContractRegistry([...repoContracts.all(), otherContract()]);
      const problems = problemsOf(
        shipped.replace(
          'alsoAccepts: [pump.telemetry@1]',
          'alsoAccepts: [pump.telemetry@9, pump.telemetry@2, fan.telemetry@1]',
        ),
        FILE,
        contracts,
      );
      // The foreign contract also lacks every pump sensor: those are refused too.
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/:\d+:\d+ alsoAccepts\[0\]: unknown data contract "pump.telemetry@9"/),
          expect.stringContaining('alsoAccepts[1]: pump.telemetry@2 is accepted twice'),
          expect.stringContaining(
            'alsoAccepts[2]: fan.telemetry@1 is another contract than pump.telemetry@2: a use case accepts versions of one contract',
          ),
        ]),
      );
      expect(problems).toContainEqual(expect.stringContaining('is not a measure of fan.telemetry@1'));
    });

    it('GIVEN a sensor that an older accepted version lacks THEN it is refused, naming that version', () => {
      const text = shipped.replace(
        'sensors:\n',
        'sensors:\n  - { field: measures.bearingTemperature, unit: degC, range: { min: 0, max: 150 }, kpi: unplanned-downtime }\n',
      );
      expect(problemsOf(text)).toEqual([
        expect.stringContaining(
          'sensors[0].field: "measures.bearingTemperature" is not a measure of pump.telemetry@1',
        ),
      ]);
      // Once the window closes, the sensor is fine.
      expect(
        parseManifest(text.replace('alsoAccepts: [pump.telemetry@1]\n', ''), FILE, repoContracts).sensors,
      ).toHaveLength(9);
    });
  });

  it('refuses a range that is inverted or outside the contract, and a wrong unit', () => {
    const text = shipped
      .replace('range: { min: 0, max: 690 }', 'range: { min: 690, max: 0 }')
      .replace('range: { min: 0, max: 5000 }', 'range: { min: 0, max: 50000 }')
      .replace('unit: bar', 'unit: psi');
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('sensors[6].range: min must be below max, got 690..0'),
        expect.stringContaining(
          'sensors[7].range: 0..50000 l/min is outside the physical range 0..20000 l/min',
        ),
        expect.stringContaining(
          'sensors[3].unit: pump.telemetry@2 reports measures.outletPressure in "bar", got "psi"',
        ),
      ]),
    );
  });

  it('refuses a field the contract does not have', () => {
    // The sensor renamed, so what reads it (the downtime baseline's running hours) names it too.
    expect(problemsOf(shipped.replace('- { field: measures.flowRate', '- { field: measures.flow'))).toEqual([
      expect.stringContaining('sensors[7].field: "measures.flow" is not a measure of pump.telemetry@2'),
      expect.stringContaining('kpis[0].mv.variables: "measures.flowRate" is not a sensor of this use case'),
    ]);
  });

  it('reads the model section and refuses an inverted instance range or an unknown feature', () => {
    expect(parseManifest(shipped, FILE, repoContracts).model?.endpoint).toEqual({
      instanceType: 'ml.c5.large',
      minInstances: 1,
      maxInstances: 4,
      invocationsPerInstancePerMinute: 3000,
    });
    const text = shipped
      .replace('minInstances: 1', 'minInstances: 5')
      .replace(
        '  # Every sensor above is a feature unless listed here.',
        '  features: [measures.flowRate, measures.torque]',
      );
    expect(problemsOf(text)).toEqual([
      expect.stringContaining('model.endpoint: minInstances 5 is above maxInstances 4'),
      expect.stringContaining('model.features[1]: "measures.torque" is not a sensor of this use case'),
    ]);
  });

  it('reads the edge section and refuses a setting naming a field that is not a sensor, with its line', () => {
    expect(parseManifest(shipped, FILE, repoContracts).edge?.spikeFilter?.fields).toEqual([
      'measures.outletPressure',
    ]);
    const text =
      shipped.replace(
        '    measures.fluidTemperature: 2',
        '    measures.fluidTemperature: 2\n    measures.torque: 3',
      ) + '  devices:\n    pump-007:\n      deadband: { measures.rpm: 5 }\n';
    const problems = problemsOf(text);
    expect(problems).toEqual([
      expect.stringMatching(
        /:\d+:\d+ edge\.maxChangePerSecond\.measures\.torque: "measures\.torque" is not a sensor of this use case/,
      ),
      expect.stringMatching(
        /edge\.devices\.pump-007\.deadband\.measures\.rpm: "measures\.rpm" is not a sensor/,
      ),
    ]);
  });

  it('refuses an edge setting out of range with the bad value', () => {
    const text = shipped.replace('threshold: 6', 'threshold: -1');
    expect(problemsOf(text)).toEqual([expect.stringContaining('edge.spikeFilter.threshold: Too small')]);
  });

  it('refuses an id that does not match the file name, and YAML syntax errors', () => {
    expect(problemsOf(shipped, 'usecases/other.yaml')).toEqual([
      expect.stringContaining('id: must match the file name "other", got "pump-maintenance"'),
    ]);
    expect(problemsOf('id: [unclosed', FILE)[0]).toMatch(/YAML syntax/);
    expect(() => parseManifest('id: [unclosed', FILE, repoContracts)).toThrow(ManifestError);
  });

  it('GIVEN a parsed manifest WHEN it is written as a document and parsed again THEN it is the same manifest', () => {
    for (const manifest of loadUseCases()) {
      expect(
        parseManifestDocument(JSON.parse(JSON.stringify(manifestDocument(manifest))), 'x', repoContracts),
      ).toEqual(manifest);
    }
  });
});
