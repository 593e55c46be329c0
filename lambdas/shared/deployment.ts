import { z } from 'zod';
import type { IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { DEFAULT_TIME_BOUNDS, systemClock } from '../../core/ingest/ports.ts';
import type { DataContract } from '../../core/contracts/contract.ts';
import { parseContractDocument } from '../../core/contracts/document.ts';
import { ContractRegistry } from '../../core/contracts/registry.ts';
import { parseManifestDocument, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import { requireEnv } from './env.ts';
import { telemetryStoreFromEnv } from './telemetry-backend.ts';

/**
 * The contract files a function was built with (AIOT_CONTRACTS, a JSON array, in the order the
 * construct gave), each checked as a contract file is.
 */
export function contractsFromEnv(env: NodeJS.ProcessEnv): DataContract[] {
  const compiled = z.array(z.unknown()).parse(JSON.parse(requireEnv('AIOT_CONTRACTS', env)));
  return compiled.map((document, index) => parseContractDocument(document, `AIOT_CONTRACTS[${index}]`));
}

/**
 * The use-case manifests a function was built with (AIOT_USE_CASES, a JSON array) and the
 * contracts they accept: compiled in by the construct, because they are the deployment's
 * configuration and larger than Lambda's 4 KB of environment. Each is checked as its file is.
 */
export function deploymentFromEnv(env: NodeJS.ProcessEnv): {
  contracts: ContractRegistry;
  manifests: UseCaseManifest[];
} {
  const contracts = new ContractRegistry(contractsFromEnv(env));
  const compiled = z.array(z.unknown()).parse(JSON.parse(requireEnv('AIOT_USE_CASES', env)));
  const manifests = compiled.map((document, index) =>
    parseManifestDocument(document, `AIOT_USE_CASES[${index}]`, contracts),
  );
  return { contracts, manifests };
}

/**
 * What a use case's ingestion checks against and writes to, from the environment the
 * IngestPipeline construct sets: the ingest function's, and the quarantine replay's.
 */
export function ingestPathFromEnv(env: NodeJS.ProcessEnv): Omit<IngestDependencies, 'quarantine'> {
  const useCase = requireEnv('USE_CASE', env);
  const maxAgeDays = Number(requireEnv('MAX_RECORD_AGE_DAYS', env));
  if (!(maxAgeDays > 0))
    throw new Error(
      `MAX_RECORD_AGE_DAYS must be a number of days above 0, got "${env.MAX_RECORD_AGE_DAYS ?? ''}"`,
    );
  return {
    useCases: new Map([[useCase, contractsFromEnv(env)]]),
    timeBounds: new Map([[useCase, { ...DEFAULT_TIME_BOUNDS, maxAgeMs: maxAgeDays * 24 * 3600 * 1000 }]]),
    store: telemetryStoreFromEnv(env),
    clock: systemClock,
  };
}
