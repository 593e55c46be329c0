import { z } from 'zod';
import { parseManifestDocument, type UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { UseCaseTables } from '../adapters/timestream-operator-reads.ts';
import { requireEnv } from './env.ts';

const tablesSchema = z.record(
  z.string(),
  z.strictObject({ databaseName: z.string(), tableName: z.string(), inferencesTableName: z.string() }),
);

/**
 * The use-case manifests a function was built with (AIOT_USE_CASES, a JSON array): compiled in by
 * the construct, because they are the deployment's configuration and larger than Lambda's 4 KB of
 * environment. Each is checked as a manifest file is.
 */
export function manifestsFromEnv(env: NodeJS.ProcessEnv): UseCaseManifest[] {
  const compiled = z.array(z.unknown()).parse(JSON.parse(requireEnv('AIOT_USE_CASES', env)));
  return compiled.map((document, index) => parseManifestDocument(document, `AIOT_USE_CASES[${index}]`));
}

/** Each use case's Timestream tables (TELEMETRY_TABLES, a JSON object by use case id). */
export function telemetryTablesFromEnv(env: NodeJS.ProcessEnv): Map<string, UseCaseTables> {
  return new Map(Object.entries(tablesSchema.parse(JSON.parse(requireEnv('TELEMETRY_TABLES', env)))));
}
