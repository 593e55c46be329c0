import type { DataContract } from '../core/contracts/contract.ts';
import type { ContractRegistry } from '../core/contracts/registry.ts';
import { acceptedContractRefs, manifestDocument, type UseCaseManifest } from '../core/usecase/manifest.ts';

/**
 * The contract files a function is built with (an esbuild define of `process.env.AIOT_CONTRACTS`),
 * in the order given: for the ingest function, the versions its use case accepts, current first.
 */
export function compiledContracts(contracts: readonly DataContract[]): Record<string, string> {
  return {
    'process.env.AIOT_CONTRACTS': JSON.stringify(JSON.stringify(contracts.map((c) => c.document))),
  };
}

/**
 * What a function serving several use cases is built with. The manifests and the contracts they
 * accept are compiled in (esbuild defines of `process.env.AIOT_USE_CASES` and `AIOT_CONTRACTS`):
 * they are the deployment's configuration and larger than Lambda's 4 KB of environment, so a
 * change of manifest or contract file redeploys the function.
 */
export function compiledUseCases(
  useCases: readonly UseCaseManifest[],
  contracts: ContractRegistry,
): Record<string, string> {
  const refs = [...new Set(useCases.flatMap(acceptedContractRefs))];
  return {
    'process.env.AIOT_USE_CASES': JSON.stringify(JSON.stringify(useCases.map(manifestDocument))),
    ...compiledContracts(contracts.getAll(refs)),
  };
}
