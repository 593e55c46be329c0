import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadContracts } from '../contracts/catalog.ts';
import type { ContractRegistry } from '../core/contracts/registry.ts';
import { parseManifest, type UseCaseManifest } from '../core/usecase/manifest.ts';

/** The folder of this file, where the manifests live. */
export const USE_CASES_DIR = import.meta.dirname;

/** Largest manifest read: a manifest is a few pages of YAML. */
const MAX_MANIFEST_BYTES = 256 * 1024;

/**
 * Reads and validates every `*.yaml` manifest of a folder against the contracts; the first
 * invalid one throws a ManifestError.
 */
export function loadUseCases(
  dir: string = USE_CASES_DIR,
  contracts: ContractRegistry = loadContracts(),
): UseCaseManifest[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      const text = readFileSync(file);
      if (text.length > MAX_MANIFEST_BYTES) {
        throw new Error(`${file} is ${text.length} bytes; a manifest may have at most ${MAX_MANIFEST_BYTES}`);
      }
      return parseManifest(text.toString('utf8'), path.relative(process.cwd(), file) || name, contracts);
    });
}

/** What a deployment is made of: its contracts and the use cases built on them. */
export interface Catalog {
  readonly contracts: ContractRegistry;
  readonly useCases: UseCaseManifest[];
}

/** Loads the contracts, then the use cases against them. */
export function loadCatalog(options: { contractsDir?: string; useCasesDir?: string } = {}): Catalog {
  const contracts = loadContracts(options.contractsDir);
  return { contracts, useCases: loadUseCases(options.useCasesDir, contracts) };
}

/** The use case of this id in a catalog, or an error naming the ones there are. */
export function useCaseById(useCases: readonly UseCaseManifest[], id: string | undefined): UseCaseManifest {
  const found = useCases.find((useCase) => useCase.id === id);
  if (!found) throw new Error(`unknown use case "${id ?? ''}" (${useCases.map((u) => u.id).join(', ')})`);
  return found;
}
