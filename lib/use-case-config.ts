import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { manifestDocument, type UseCaseManifest } from '../core/usecase/manifest.ts';
import type { TelemetryDatabase } from './constructs/telemetry-database.ts';

/**
 * What a function serving several use cases is built with. The manifests are compiled in (an
 * esbuild define of `process.env.AIOT_USE_CASES`): they are the deployment's configuration and
 * larger than Lambda's 4 KB of environment, so a change of manifest redeploys the function.
 */
export function compiledUseCases(useCases: readonly UseCaseManifest[]): Record<string, string> {
  return { 'process.env.AIOT_USE_CASES': JSON.stringify(JSON.stringify(useCases.map(manifestDocument))) };
}

/** TELEMETRY_TABLES: each use case's Timestream database and tables, by use case id. */
export function telemetryTablesVariable(
  scope: Construct,
  useCases: readonly UseCaseManifest[],
  telemetry: ReadonlyMap<string, TelemetryDatabase>,
): string {
  const missing = useCases.filter((u) => !telemetry.has(u.id)).map((u) => u.id);
  if (missing.length > 0) throw new Error(`telemetry has no database for use cases: ${missing.join(', ')}`);
  return Stack.of(scope).toJsonString(
    Object.fromEntries(
      useCases.map((u) => {
        const database = telemetry.get(u.id);
        return [
          u.id,
          {
            databaseName: database?.databaseName ?? '',
            tableName: database?.tableName ?? '',
            inferencesTableName: database?.inferencesTableName ?? '',
          },
        ];
      }),
    ),
  );
}
