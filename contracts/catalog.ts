import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseContractFile } from '../core/contracts/document.ts';
import { ContractRegistry } from '../core/contracts/registry.ts';

/** The folder of this file, where the contracts live. */
export const CONTRACTS_DIR = import.meta.dirname;

/** Largest contract file read: a contract is a page of YAML, not a data set. */
const MAX_CONTRACT_BYTES = 256 * 1024;

/**
 * Reads and checks every `*.yaml` contract of a folder into a registry. Every problem of the
 * first invalid file is thrown at once as a ContractFileError naming its line and column.
 */
export function loadContracts(dir: string = CONTRACTS_DIR): ContractRegistry {
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  return new ContractRegistry(
    files.map((name) => {
      const file = path.join(dir, name);
      const text = readFileSync(file);
      if (text.length > MAX_CONTRACT_BYTES) {
        throw new Error(
          `${file} is ${text.length} bytes; a contract file may have at most ${MAX_CONTRACT_BYTES}`,
        );
      }
      return parseContractFile(text.toString('utf8'), path.relative(process.cwd(), file) || name);
    }),
  );
}
