import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Silence, StoredTrack } from '../../core/alerts/ports.ts';
import type { BaselineState } from '../../core/baseline/ports.ts';
import type { DuckDbStore } from './duckdb-store.ts';
import { RevisionedCache, type RevisionedWrite } from './revisioned-cache.ts';
import { asJson, asTimestamp, micros, valuesList } from './sql.ts';

/** What scoring and alerting read and write on every pass, held in memory beside the store. */
export interface StateCaches {
  readonly baselines: RevisionedCache<BaselineState>;
  readonly tracks: RevisionedCache<StoredTrack>;
  /** Each use case's silences, once read. */
  readonly silences: Map<string, Silence[]>;
}

const byStore = new WeakMap<DuckDbStore, StateCaches>();

/** The caches of one store, shared by everything that writes through it. */
export function cachesOf(db: DuckDbStore): StateCaches {
  let caches = byStore.get(db);
  if (!caches) {
    caches = {
      baselines: new RevisionedCache((writes) => db.withWriter((c) => persistBaselines(c, writes))),
      tracks: new RevisionedCache((writes) => db.withWriter((c) => persistTracks(c, writes))),
      silences: new Map(),
    };
    byStore.set(db, caches);
  }
  return caches;
}

/** The newest write of each key: one statement may not replace a row twice. */
function newestByKey<T>(writes: readonly RevisionedWrite<T>[]): T[] {
  return [...new Map(writes.map((write) => [write.key, write.state])).values()];
}

/** The accepted baseline states in one statement, and every active version they started. */
async function persistBaselines(
  c: DuckDBConnection,
  writes: readonly RevisionedWrite<BaselineState>[],
): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    const rows = valuesList<DuckDBValue>(
      newestByKey(writes).map((state) => [
        state.useCase,
        state.deviceId,
        state.revision,
        JSON.stringify(state),
        state.active?.version ?? null,
        state.calibration !== undefined,
      ]),
      // updated_at follows the last value: the time of the write.
      { 5: (ref) => `${ref}, now()` },
    );
    await c.run(
      `INSERT OR REPLACE INTO device_baselines (use_case, device_id, revision, state, active_version, calibrating, updated_at)
       VALUES ${rows.sql}`,
      rows.params,
    );
    const started = writes.flatMap(({ state, previous }) =>
      state.active && state.active.version !== previous?.active?.version
        ? [{ state, active: state.active }]
        : [],
    );
    if (started.length > 0) {
      const versions = valuesList<DuckDBValue>(
        started.map(({ state, active }) => [
          state.useCase,
          state.deviceId,
          active.version,
          active.reason,
          active.note,
          active.requestedBy.name,
          active.requestedBy.role,
          micros(active.activatedAt),
          micros(active.calibratedFrom),
          micros(active.calibratedUntil),
          active.baseline.modelVersion,
          JSON.stringify(active.baseline),
        ]),
        { 7: asTimestamp, 8: asTimestamp, 9: asTimestamp, 11: asJson },
      );
      await c.run(`INSERT OR IGNORE INTO baseline_versions VALUES ${versions.sql}`, versions.params);
    }
    await c.run('COMMIT');
  } catch (error) {
    await c.run('ROLLBACK');
    throw error;
  }
}

async function persistTracks(
  c: DuckDBConnection,
  writes: readonly RevisionedWrite<StoredTrack>[],
): Promise<void> {
  const rows = valuesList<DuckDBValue>(
    newestByKey(writes).map((track) => [
      track.useCase,
      track.deviceId,
      track.inference,
      track.revision,
      JSON.stringify(track),
    ]),
  );
  await c.run(`INSERT OR REPLACE INTO alert_tracks VALUES ${rows.sql}`, rows.params);
}
