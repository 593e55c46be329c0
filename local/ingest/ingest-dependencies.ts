import type { ContractRegistry } from '../../core/contracts/registry.ts';
import type { IngestDependencies } from '../../core/ingest/ingest-batch.ts';
import { DEFAULT_TIME_BOUNDS, systemClock } from '../../core/ingest/ports.ts';
import { acceptedContractRefs, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { DuckDbStore } from '../store/duckdb-store.ts';

const DAY_MS = 24 * 3600 * 1000;

/** What ingestion checks against and writes to, as the Lambda has it: live traffic and replays alike. */
export function ingestDependencies(
  useCases: readonly UseCaseManifest[],
  contracts: ContractRegistry,
  store: DuckDbStore,
): Omit<IngestDependencies, 'quarantine'> {
  return {
    useCases: new Map(
      useCases.map((useCase) => [useCase.id, contracts.getAll(acceptedContractRefs(useCase))]),
    ),
    store,
    clock: systemClock,
    // What Timestream would take: up to the magnetic retention back, 15 minutes ahead.
    timeBounds: new Map(
      useCases.map((useCase) => [
        useCase.id,
        { ...DEFAULT_TIME_BOUNDS, maxAgeMs: useCase.storage.magneticRetentionDays * DAY_MS },
      ]),
    ),
  };
}
