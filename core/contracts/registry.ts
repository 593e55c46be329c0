import type { DataContract } from './contract.ts';
import { pumpTelemetryV1, pumpTelemetryV2 } from './pump-telemetry.ts';

/** Every data contract the product knows, by `id@version`. A new version is a new entry, never an edit. */
export const contracts: ReadonlyMap<string, DataContract> = new Map(
  [pumpTelemetryV1, pumpTelemetryV2].map((contract) => [contract.ref, contract]),
);

export function findContract(ref: string): DataContract | undefined {
  return contracts.get(ref);
}

export function getContract(ref: string): DataContract {
  const contract = contracts.get(ref);
  if (!contract) {
    throw new Error(`Unknown data contract "${ref}". Known: ${[...contracts.keys()].join(', ')}`);
  }
  return contract;
}

/** Every store column any contract uses, with its unit: the stores' flexible measure columns. */
export function allMeasureColumns(): { column: string; unit: string }[] {
  const seen = new Map<string, string>();
  for (const contract of contracts.values()) {
    for (const spec of Object.values(contract.measures)) seen.set(spec.column, spec.unit);
  }
  return [...seen].map(([column, unit]) => ({ column, unit }));
}
