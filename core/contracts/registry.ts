import type { DataContract } from './contract.ts';

export class UnknownContractError extends Error {
  constructor(ref: string, known: readonly string[]) {
    super(`Unknown data contract "${ref}". Known: ${known.join(', ') || 'none'}`);
    this.name = 'UnknownContractError';
  }
}

/**
 * Every data contract a deployment knows, by `id@version`: loaded from `contracts/*.yaml` on a
 * machine, compiled into the functions in the cloud. A new version is a new file, never an edit.
 */
export class ContractRegistry {
  private readonly byRef: ReadonlyMap<string, DataContract>;

  /** Throws when two contracts claim one ref, or one store column with different units. */
  constructor(contracts: Iterable<DataContract>) {
    const byRef = new Map<string, DataContract>();
    const units = new Map<string, { unit: string; ref: string }>();
    for (const contract of contracts) {
      if (byRef.has(contract.ref)) throw new Error(`data contract ${contract.ref} is defined twice`);
      byRef.set(contract.ref, contract);
      for (const [name, spec] of Object.entries(contract.measures)) {
        const earlier = units.get(spec.column);
        // One store column holds one quantity: mixing units in it would make every query wrong.
        if (earlier && earlier.unit !== spec.unit) {
          throw new Error(
            `${contract.ref} stores ${name} in column "${spec.column}" in "${spec.unit}", but ${earlier.ref} stores "${earlier.unit}" there: give it another column`,
          );
        }
        units.set(spec.column, { unit: spec.unit, ref: contract.ref });
      }
    }
    this.byRef = byRef;
  }

  get refs(): string[] {
    return [...this.byRef.keys()].sort();
  }

  all(): DataContract[] {
    return this.refs.flatMap((ref) => this.byRef.get(ref) ?? []);
  }

  find(ref: string): DataContract | undefined {
    return this.byRef.get(ref);
  }

  get(ref: string): DataContract {
    const contract = this.byRef.get(ref);
    if (!contract) throw new UnknownContractError(ref, this.refs);
    return contract;
  }

  /** The contracts of these refs, in that order; throws on an unknown one. */
  getAll(refs: readonly string[]): DataContract[] {
    return refs.map((ref) => this.get(ref));
  }

  /** Every store column any contract uses, with its unit: the stores' flexible measure columns. */
  measureColumns(): { column: string; unit: string }[] {
    const seen = new Map<string, string>();
    for (const contract of this.all()) {
      for (const spec of Object.values(contract.measures)) seen.set(spec.column, spec.unit);
    }
    return [...seen].map(([column, unit]) => ({ column, unit }));
  }
}
