import type { DataContract } from '../contracts/contract.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import type { DocumentPath, RawProblem } from '../documents/yaml-file.ts';
import { computationFields, isAdditive } from '../kpi/kpi.ts';
import { variableFields } from '../kpi/mv/baseline-spec.ts';
import { opportunityFields } from '../kpi/mv/opportunities.ts';
import { edgeFieldReferences } from '../edge/settings.ts';
import { evaluationOrder } from '../simulation/manifest-simulator.ts';
import { acceptedContractRefs, type UseCaseManifest } from './manifest-schema.ts';

type Path = DocumentPath;

/** What is wrong with a sensor as one contract version defines its measure, if anything. */
function sensorProblem(
  sensor: UseCaseManifest['sensors'][number],
  contract: DataContract,
): { key: 'field' | 'unit' | 'range'; message: string } | undefined {
  const measure = sensor.field.startsWith('measures.') ? sensor.field.slice('measures.'.length) : undefined;
  const spec = measure === undefined ? undefined : contract.measures[measure];
  if (!spec) {
    const fields = Object.keys(contract.measures).map((name) => `measures.${name}`);
    return {
      key: 'field',
      message: `"${sensor.field}" is not a measure of ${contract.ref} (known: ${fields.join(', ')})`,
    };
  }
  if (sensor.unit !== spec.unit) {
    return {
      key: 'unit',
      message: `${contract.ref} reports ${sensor.field} in "${spec.unit}", got "${sensor.unit}"`,
    };
  }
  if (sensor.range.min < spec.min || sensor.range.max > spec.max) {
    return {
      key: 'range',
      message: `${sensor.range.min}..${sensor.range.max} ${sensor.unit} is outside the physical range ${spec.min}..${spec.max} ${spec.unit} of ${contract.ref}`,
    };
  }
  return undefined;
}

/** Rules zod cannot express: cross-references to KPIs and to the data contracts. */
export function crossCheck(
  manifest: UseCaseManifest,
  fileStem: string,
  contracts: ContractRegistry,
): RawProblem[] {
  const problems: RawProblem[] = [];
  if (manifest.id !== fileStem) {
    problems.push({ path: ['id'], message: `must match the file name "${fileStem}", got "${manifest.id}"` });
  }
  manifest.kpis.forEach((kpi, index) => {
    if (manifest.kpis.findIndex((other) => other.id === kpi.id) !== index) {
      problems.push({ path: ['kpis', index, 'id'], message: `duplicate KPI id "${kpi.id}"` });
    }
  });
  const accepted = acceptedContracts(manifest, contracts, problems);
  problems.push(...sensorProblems(manifest, accepted));
  problems.push(...modelProblems(manifest));
  problems.push(...edgeProblems(manifest));
  if (manifest.simulation) problems.push(...simulationProblems(manifest.simulation, accepted[0]));
  problems.push(...kpiComputationProblems(manifest));
  problems.push(...fieldReferenceProblems(manifest));
  return problems;
}

/** The contracts the use case accepts; each that is unknown, foreign or repeated is a problem. */
function acceptedContracts(
  manifest: UseCaseManifest,
  contracts: ContractRegistry,
  problems: RawProblem[],
): DataContract[] {
  const accepted: DataContract[] = [];
  const refs = acceptedContractRefs(manifest);
  refs.forEach((ref, index) => {
    const path: Path = index === 0 ? ['contract'] : ['alsoAccepts', index - 1];
    const contract = contracts.find(ref);
    if (!contract) {
      problems.push({
        path,
        message: `unknown data contract "${ref}" (known: ${contracts.refs.join(', ')})`,
      });
      return;
    }
    if (index > 0 && contract.id !== manifest.contract.split('@')[0]) {
      problems.push({
        path,
        message: `${ref} is another contract than ${manifest.contract}: a use case accepts versions of one contract`,
      });
    }
    if (refs.indexOf(ref) !== index) {
      problems.push({ path, message: `${ref} is accepted twice` });
    }
    accepted.push(contract);
  });
  return accepted;
}

function sensorProblems(manifest: UseCaseManifest, accepted: readonly DataContract[]): RawProblem[] {
  const problems: RawProblem[] = [];
  const kpiIds = new Set(manifest.kpis.map((kpi) => kpi.id));
  manifest.sensors.forEach((sensor, index) => {
    const at = (key: string): Path => ['sensors', index, key];
    if (!kpiIds.has(sensor.kpi)) {
      problems.push({
        path: at('kpi'),
        message: `unknown KPI "${sensor.kpi}" (known: ${[...kpiIds].join(', ')})`,
      });
    }
    if (sensor.range.min >= sensor.range.max) {
      problems.push({
        path: at('range'),
        message: `min must be below max, got ${sensor.range.min}..${sensor.range.max}`,
      });
    }
    if (manifest.sensors.findIndex((other) => other.field === sensor.field) !== index) {
      problems.push({ path: at('field'), message: `sensor "${sensor.field}" is declared twice` });
    }
    // A sensor is read whatever version a device sends: every accepted version must have it alike.
    for (const contract of accepted) {
      const problem = sensorProblem(sensor, contract);
      if (problem) {
        problems.push({ path: at(problem.key), message: problem.message });
        break;
      }
    }
  });
  return problems;
}

function modelProblems(manifest: UseCaseManifest): RawProblem[] {
  if (!manifest.model) return [];
  const problems: RawProblem[] = [];
  const { endpoint, features } = manifest.model;
  if (endpoint.minInstances > endpoint.maxInstances) {
    problems.push({
      path: ['model', 'endpoint'],
      message: `minInstances ${endpoint.minInstances} is above maxInstances ${endpoint.maxInstances}`,
    });
  }
  const sensorFields = new Set(manifest.sensors.map((sensor) => sensor.field));
  features?.forEach((feature, index) => {
    if (!sensorFields.has(feature)) {
      problems.push({
        path: ['model', 'features', index],
        message: `"${feature}" is not a sensor of this use case`,
      });
    }
  });
  if (manifest.inferences.length === 0) {
    problems.push({
      path: ['inferences'],
      message: 'a use case with a model needs an inference for its alerts to be about',
    });
  }
  return problems;
}

function edgeProblems(manifest: UseCaseManifest): RawProblem[] {
  if (!manifest.edge) return [];
  const sensorFields = new Set(manifest.sensors.map((sensor) => sensor.field));
  return edgeFieldReferences(manifest.edge)
    .filter(({ field }) => !sensorFields.has(field))
    .map(({ path, field }) => ({
      path,
      message: `"${field}" is not a sensor of this use case (sensors: ${[...sensorFields].join(', ')})`,
    }));
}

function kpiComputationProblems(manifest: UseCaseManifest): RawProblem[] {
  const problems: RawProblem[] = [];
  const sensorFieldList = manifest.sensors.map((sensor) => sensor.field);
  // The longest a healthy device of the use case may stay quiet: its edge heartbeat.
  const longestHeartbeat = Math.max(
    manifest.edge?.heartbeatSeconds ?? 60,
    ...Object.values(manifest.edge?.devices ?? {}).map((tuning) => tuning.heartbeatSeconds ?? 0),
  );
  manifest.kpis.forEach((kpi, index) => {
    if (!kpi.compute) return;
    if (
      'builtin' in kpi.compute &&
      kpi.compute.builtin === 'unplanned-downtime' &&
      kpi.compute.silentAfterMinutes * 60 <= longestHeartbeat
    )
      problems.push({
        path: ['kpis', index, 'compute', 'silentAfterMinutes'],
        message: `${kpi.compute.silentAfterMinutes} minutes is not longer than the edge heartbeat (${longestHeartbeat} s): a healthy device that only sends its heartbeat would count as down`,
      });
    for (const field of computationFields(kpi.compute))
      if (!sensorFieldList.includes(field))
        problems.push({
          path: ['kpis', index, 'compute'],
          message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
        });
  });
  problems.push(...mvProblems(manifest, sensorFieldList));
  if (manifest.opportunities)
    for (const field of opportunityFields(manifest.opportunities))
      if (!sensorFieldList.includes(field))
        problems.push({
          path: ['opportunities'],
          message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
        });
  return problems;
}

/** An M&V baseline needs a KPI the pipeline computes as a quantity, and variables it collects. */
function mvProblems(manifest: UseCaseManifest, sensorFieldList: readonly string[]): RawProblem[] {
  const problems: RawProblem[] = [];
  manifest.kpis.forEach((kpi, index) => {
    if (!kpi.mv) return;
    if (!kpi.compute || !isAdditive(kpi.compute))
      problems.push({
        path: ['kpis', index, 'mv'],
        message: kpi.compute
          ? 'a baseline model predicts a quantity that adds up (kWh, EUR, hours); this KPI is a rate, which is already normalized'
          : 'a baseline model needs the KPI computed by the pipeline (`compute`)',
      });
    for (const field of variableFields(kpi.mv))
      if (!sensorFieldList.includes(field))
        problems.push({
          path: ['kpis', index, 'mv', 'variables'],
          message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
        });
  });
  return problems;
}

/** Sensors the drift checks ignore and KPIs the inferences serve must exist. */
function fieldReferenceProblems(manifest: UseCaseManifest): RawProblem[] {
  const problems: RawProblem[] = [];
  const sensorFieldList = manifest.sensors.map((sensor) => sensor.field);
  manifest.drift.flatLine.ignore.forEach((field, index) => {
    if (!sensorFieldList.includes(field))
      problems.push({
        path: ['drift', 'flatLine', 'ignore', index],
        message: `"${field}" is not a sensor of this use case (sensors: ${sensorFieldList.join(', ')})`,
      });
  });
  const kpiIds = new Set(manifest.kpis.map((kpi) => kpi.id));
  manifest.inferences.forEach((inference, index) => {
    if (!kpiIds.has(inference.kpi)) {
      problems.push({
        path: ['inferences', index, 'kpi'],
        message: `unknown KPI "${inference.kpi}" (known: ${[...kpiIds].join(', ')})`,
      });
    }
  });
  return problems;
}

/** The simulation must speak the use case's current contract, and its ties and faults must resolve. */
function simulationProblems(
  simulation: NonNullable<UseCaseManifest['simulation']>,
  contract: DataContract | undefined,
): RawProblem[] {
  const problems: RawProblem[] = [];
  const simulated = Object.keys(simulation.measures);
  if (contract) {
    for (const name of simulated)
      if (!(name in contract.measures))
        problems.push({
          path: ['simulation', 'measures', name],
          message: `"${name}" is not a measure of ${contract.ref} (known: ${Object.keys(contract.measures).join(', ')})`,
        });
    for (const [name, measure] of Object.entries(contract.measures))
      if (!measure.optional && !simulated.includes(name))
        problems.push({
          path: ['simulation', 'measures'],
          message: `${contract.ref} requires "${name}": simulated devices would send invalid readings`,
        });
  }
  const ordered = evaluationOrder(simulation.measures);
  if ('problem' in ordered)
    problems.push({
      path: ['simulation', 'measures', ordered.problem.measure, 'dependsOn'],
      message: ordered.problem.message,
    });
  simulation.faults.forEach((fault, index) => {
    if (simulation.faults.findIndex((other) => other.id === fault.id) !== index)
      problems.push({
        path: ['simulation', 'faults', index, 'id'],
        message: `duplicate fault id "${fault.id}"`,
      });
  });
  for (const list of ['faults', 'practices'] as const)
    simulation[list].forEach((bending, index) => {
      bending.effects.forEach((effect, effectIndex) => {
        if (!simulated.includes(effect.measure))
          problems.push({
            path: ['simulation', list, index, 'effects', effectIndex, 'measure'],
            message: `"${effect.measure}" is not a simulated measure (${simulated.join(', ')})`,
          });
      });
    });
  return problems;
}
