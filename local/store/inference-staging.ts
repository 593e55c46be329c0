import { DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import type { InferenceRecord } from '../../core/inference/inference-records.ts';
import { INFERENCE_COLUMNS, INFERENCE_STAGING } from './schema.ts';

const STAGED = `(${INFERENCE_COLUMNS.join(', ')})
  SELECT ${INFERENCE_COLUMNS.map((c) => (c === 'contributors' ? 'contributors::JSON' : c)).join(', ')}
  FROM ${INFERENCE_STAGING}`;

/** The staged rows into `inferences`, failing whole if one is there already. */
export const INSERT_INFERENCES = `INSERT INTO inferences ${STAGED}`;

/** The staged rows into `inferences`; a rescored reading (a redelivery) replaces its earlier row. */
export const MERGE_INFERENCES = `INSERT OR REPLACE INTO inferences ${STAGED}`;

/** One inference row into the staging table, in `INFERENCE_COLUMNS` order (no closures: one call a reading). */
export function appendInference(appender: DuckDBAppender, r: InferenceRecord): void {
  appender.appendVarchar(r.useCase);
  appender.appendVarchar(r.deviceId);
  appender.appendTimestamp(new DuckDBTimestampValue(BigInt(r.time) * 1000n));
  appender.appendVarchar(r.status);
  if (r.score === null) appender.appendNull();
  else appender.appendDouble(r.score);
  if (r.threshold === null) appender.appendNull();
  else appender.appendDouble(r.threshold);
  if (r.anomalous === null) appender.appendNull();
  else appender.appendBoolean(r.anomalous);
  appender.appendVarchar(r.contributors.length === 0 ? '[]' : JSON.stringify(r.contributors));
  if (r.modelVersion === null) appender.appendNull();
  else appender.appendVarchar(r.modelVersion);
  if (r.latencyMs === null) appender.appendNull();
  else appender.appendDouble(r.latencyMs);
  if (r.skipReason === null) appender.appendNull();
  else appender.appendVarchar(r.skipReason);
  if (r.deviceState === null) appender.appendNull();
  else appender.appendVarchar(r.deviceState);
  if (r.baselineVersion === null) appender.appendNull();
  else appender.appendInteger(r.baselineVersion);
  appender.endRow();
}
