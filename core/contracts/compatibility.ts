import type { DataContract, MeasureSpec } from './contract.ts';

/**
 * How a change of a data contract affects the devices that send it and the stores and models that
 * read it. Compatible: a device on the old version still sends valid messages, and everything
 * stored keeps its meaning. Breaking: some device's valid message would be refused, or a stored
 * column would change its meaning; that needs a new version.
 */
export type ChangeKind =
  | 'measure-added'
  | 'measure-removed'
  | 'measure-renamed'
  | 'unit-changed'
  | 'column-changed'
  | 'range-widened'
  | 'range-narrowed'
  | 'became-optional'
  | 'became-required'
  | 'description-changed';

export interface ContractChange {
  readonly kind: ChangeKind;
  readonly measure: string;
  readonly compatible: boolean;
  readonly reason: string;
}

export interface ContractComparison {
  readonly from: string;
  readonly to: string;
  readonly changes: readonly ContractChange[];
  /** True when every change is compatible (also when nothing changed). */
  readonly compatible: boolean;
}

const range = (spec: MeasureSpec) => `${spec.min}..${spec.max} ${spec.unit}`;

function measureChanges(name: string, before: MeasureSpec, after: MeasureSpec): ContractChange[] {
  const changes: ContractChange[] = [];
  if (before.unit !== after.unit) {
    changes.push({
      kind: 'unit-changed',
      measure: name,
      compatible: false,
      reason: `unit ${before.unit} became ${after.unit}: stored values and models would mix two scales`,
    });
  }
  if (before.column !== after.column) {
    changes.push({
      kind: 'column-changed',
      measure: name,
      compatible: false,
      reason: `store column ${before.column} became ${after.column}: queries, baselines and models read the old one`,
    });
  }
  if (after.min > before.min || after.max < before.max) {
    changes.push({
      kind: 'range-narrowed',
      measure: name,
      compatible: false,
      reason: `physical range ${range(before)} became ${range(after)}: readings valid before would be quarantined`,
    });
  } else if (after.min < before.min || after.max > before.max) {
    changes.push({
      kind: 'range-widened',
      measure: name,
      compatible: true,
      reason: `physical range ${range(before)} became ${range(after)}: every reading valid before still is`,
    });
  }
  if (!before.optional && after.optional) {
    changes.push({
      kind: 'became-optional',
      measure: name,
      compatible: true,
      reason:
        'devices may now leave it out; every message valid before still is (readers must expect it missing)',
    });
  } else if (before.optional && !after.optional) {
    changes.push({
      kind: 'became-required',
      measure: name,
      compatible: false,
      reason: 'devices that leave it out would be quarantined',
    });
  }
  if (before.description !== after.description) {
    changes.push({
      kind: 'description-changed',
      measure: name,
      compatible: true,
      reason: 'documentation only',
    });
  }
  return changes;
}

/** Every change from one contract to another, each classified, with the reason. */
export function compareContracts(
  from: Pick<DataContract, 'ref' | 'measures'>,
  to: Pick<DataContract, 'ref' | 'measures'>,
): ContractComparison {
  const changes: ContractChange[] = [];
  const added = Object.keys(to.measures).filter((name) => !(name in from.measures));
  const removed = Object.keys(from.measures).filter((name) => !(name in to.measures));
  for (const name of removed) {
    const spec = from.measures[name];
    // Same column under another name: a rename, which every sender and reader must follow.
    const renamedTo = added.find((other) => to.measures[other]?.column === spec?.column);
    if (renamedTo) {
      added.splice(added.indexOf(renamedTo), 1);
      changes.push({
        kind: 'measure-renamed',
        measure: name,
        compatible: false,
        reason: `renamed to ${renamedTo}: devices sending ${name} would be quarantined`,
      });
      continue;
    }
    changes.push({
      kind: 'measure-removed',
      measure: name,
      compatible: false,
      reason: `removed: devices sending it would be quarantined, and models reading it lose an input`,
    });
  }
  for (const name of added) {
    const spec = to.measures[name];
    changes.push(
      spec?.optional
        ? {
            kind: 'measure-added',
            measure: name,
            compatible: true,
            reason: 'a new optional measure: devices on the old version need not send it',
          }
        : {
            kind: 'measure-added',
            measure: name,
            compatible: false,
            reason:
              'a new required measure: devices on the old version do not send it and would be quarantined',
          },
    );
  }
  for (const [name, before] of Object.entries(from.measures)) {
    const after = to.measures[name];
    if (after) changes.push(...measureChanges(name, before, after));
  }
  return { from: from.ref, to: to.ref, changes, compatible: changes.every((c) => c.compatible) };
}
