import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import type {
  AlertEventNotice,
  AlertFilter,
  AlertStore,
  FeedbackRecord,
  ShiftCaps,
  Silence,
  StoredTrack,
  Suppression,
} from '../../core/alerts/ports.ts';
import type { BaselineState, BaselineStore } from '../../core/baseline/ports.ts';
import { ALERT_TABLES } from './alert-schema.ts';
import { cachesOf, type StateCaches } from './device-state-cache.ts';
import { asTimestamp, micros } from './sql.ts';
import { text, type DuckDbStore } from './duckdb-store.ts';

const baselineKey = (useCase: string, deviceId: string) => JSON.stringify([useCase, deviceId]);
const trackKey = (useCase: string, deviceId: string, inference: string) =>
  JSON.stringify([useCase, deviceId, inference]);

/**
 * Device baselines and alerts in the local store, beside the telemetry they are about, so one
 * `aiot query` joins them. State objects are kept whole as JSON (what the code reads) with the
 * columns people filter on beside them. Baseline states and alert tracks, which scoring reads and
 * writes on every pass, are held in memory and checked there (`device-state-cache.ts`); the other
 * conditional writes run on the store's single writer connection, one after another, which makes
 * each read-check-write atomic.
 */
export class DuckDbAlertStore implements AlertStore, BaselineStore {
  /** Shared by every instance on the store: the conditional writes check against one copy. */
  private readonly caches: StateCaches;

  private constructor(private readonly db: DuckDbStore) {
    this.caches = cachesOf(db);
  }

  static async open(db: DuckDbStore): Promise<DuckDbAlertStore> {
    await db.withWriter(async (c) => {
      await c.run(ALERT_TABLES);
    });
    const store = new DuckDbAlertStore(db);
    await store.preload();
    return store;
  }

  /**
   * Reads every device's baseline state and alert track once: scoring asks for them on every pass,
   * and a first read one device at a time held the first passes up for seconds.
   */
  private async preload(): Promise<void> {
    const { baselines, tracks } = this.caches;
    if (baselines.preloaded && tracks.preloaded) return;
    const [states, stored] = await this.write(async (c) => [
      (await c.runAndReadAll('SELECT state FROM device_baselines')).getRowObjectsJS(),
      (await c.runAndReadAll('SELECT track FROM alert_tracks')).getRowObjectsJS(),
    ]);
    baselines.preload(
      states.map((row) => {
        const state = JSON.parse(text(row.state)) as BaselineState;
        return [baselineKey(state.useCase, state.deviceId), state] as const;
      }),
    );
    tracks.preload(
      stored.map((row) => {
        const track = JSON.parse(text(row.track)) as StoredTrack;
        return [trackKey(track.useCase, track.deviceId, track.inference), track] as const;
      }),
    );
  }

  private write<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.withWriter(work);
  }

  private async one(
    c: DuckDBConnection,
    sql: string,
    params: DuckDBValue[],
  ): Promise<Record<string, unknown> | undefined> {
    const result = await c.runAndReadAll(sql, params);
    return result.getRowObjectsJS()[0];
  }

  // --- BaselineStore

  get(useCase: string, deviceId: string): Promise<BaselineState | undefined> {
    return this.caches.baselines.get(baselineKey(useCase, deviceId), () =>
      this.loadBaseline(useCase, deviceId),
    );
  }

  save(state: BaselineState): Promise<boolean> {
    return this.caches.baselines.save(baselineKey(state.useCase, state.deviceId), state, () =>
      this.loadBaseline(state.useCase, state.deviceId),
    );
  }

  private loadBaseline(useCase: string, deviceId: string): Promise<BaselineState | undefined> {
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT state FROM device_baselines WHERE use_case = $1 AND device_id = $2',
        [useCase, deviceId],
      );
      return row ? (JSON.parse(text(row.state)) as BaselineState) : undefined;
    });
  }

  list(useCase?: string): Promise<BaselineState[]> {
    return this.write(async (c) => {
      const result = await c.runAndReadAll(
        `SELECT state FROM device_baselines ${useCase ? 'WHERE use_case = $1' : ''} ORDER BY use_case, device_id`,
        useCase ? [useCase] : [],
      );
      return result.getRowObjectsJS().map((row) => JSON.parse(text(row.state)) as BaselineState);
    });
  }

  // --- AlertStore

  getTrack(useCase: string, deviceId: string, inference: string): Promise<StoredTrack | undefined> {
    return this.caches.tracks.get(trackKey(useCase, deviceId, inference), () =>
      this.loadTrack(useCase, deviceId, inference),
    );
  }

  saveTrack(track: StoredTrack): Promise<boolean> {
    return this.caches.tracks.save(trackKey(track.useCase, track.deviceId, track.inference), track, () =>
      this.loadTrack(track.useCase, track.deviceId, track.inference),
    );
  }

  private loadTrack(useCase: string, deviceId: string, inference: string): Promise<StoredTrack | undefined> {
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT track FROM alert_tracks WHERE use_case = $1 AND device_id = $2 AND inference = $3',
        [useCase, deviceId, inference],
      );
      return row ? (JSON.parse(text(row.track)) as StoredTrack) : undefined;
    });
  }

  openAlert(alert: Alert, caps: ShiftCaps): Promise<'notify' | 'digest'> {
    return this.write(async (c) => {
      const existing = await this.one(c, 'SELECT delivery FROM alerts WHERE id = $1', [alert.id]);
      if (existing) return existing.delivery === 'digest' ? 'digest' : 'notify';
      const counts = await this.one(
        c,
        `SELECT count(*) AS use_case_count, count(*) FILTER (WHERE device_id = $2) AS device_count
         FROM alerts WHERE use_case = $1 AND delivery = 'notify' AND opened_at >= ${asTimestamp('$3')}`,
        [alert.useCase, alert.deviceId, micros(caps.shiftStart)],
      );
      const delivery =
        Number(counts?.use_case_count ?? 0) >= caps.perUseCase ||
        Number(counts?.device_count ?? 0) >= caps.perDevice
          ? 'digest'
          : 'notify';
      await this.insertAlert(c, { ...alert, delivery });
      return delivery;
    });
  }

  private async insertAlert(c: DuckDBConnection, alert: Alert): Promise<void> {
    await c.run(
      `INSERT OR REPLACE INTO alerts VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ${asTimestamp('$9')}, ${asTimestamp('$10')}, ${asTimestamp('$11')},
         CASE WHEN $12::BIGINT IS NULL THEN NULL ELSE ${asTimestamp('$12')} END, $13, $14, $15, $16, $17)`,
      [
        alert.id,
        alert.useCase,
        alert.deviceId,
        alert.inference,
        alert.group,
        alert.status,
        alert.severity,
        alert.delivery,
        micros(alert.openedAt),
        micros(alert.firstAnomalyAt),
        micros(alert.lastAnomalyAt),
        alert.clearedAt === null ? null : micros(alert.clearedAt),
        alert.peakScore,
        alert.threshold,
        alert.verdict
          ? alert.verdict.kind === 'false-positive'
            ? `false-positive:${alert.verdict.reason}`
            : 'confirmed'
          : null,
        alert.history.length,
        JSON.stringify(alert),
      ],
    );
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return this.write(async (c) => {
      const row = await this.one(c, 'SELECT alert FROM alerts WHERE id = $1', [id]);
      return row ? (JSON.parse(text(row.alert)) as Alert) : undefined;
    });
  }

  replaceAlert(alert: Alert, expectedHistory: number): Promise<boolean> {
    return this.write(async (c) => {
      const row = await this.one(c, 'SELECT history_length FROM alerts WHERE id = $1', [alert.id]);
      if (!row || Number(row.history_length) !== expectedHistory) return false;
      await this.insertAlert(c, alert);
      return true;
    });
  }

  listAlerts(filter: AlertFilter): Promise<Alert[]> {
    return this.write(async (c) => {
      const where: string[] = [];
      const params: DuckDBValue[] = [];
      const add = (clause: (ref: string) => string, value: DuckDBValue) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (filter.useCase) add((ref) => `use_case = ${ref}`, filter.useCase);
      if (filter.deviceId) add((ref) => `device_id = ${ref}`, filter.deviceId);
      if (filter.delivery) add((ref) => `delivery = ${ref}`, filter.delivery);
      if (filter.since !== undefined) add((ref) => `opened_at >= ${asTimestamp(ref)}`, micros(filter.since));
      if (filter.statuses) {
        const refs = filter.statuses.map((status) => {
          params.push(status);
          return `$${params.length}`;
        });
        where.push(`status IN (${refs.join(', ') || 'NULL'})`);
      }
      params.push(filter.limit ?? 1000);
      const result = await c.runAndReadAll(
        `SELECT alert FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY opened_at DESC LIMIT $${params.length}`,
        params,
      );
      return result.getRowObjectsJS().map((row) => JSON.parse(text(row.alert)) as Alert);
    });
  }

  addSilence(silence: Silence): Promise<void> {
    return this.write(async (c) => {
      await c.run(
        `INSERT INTO silences VALUES ($1, $2, $3, $4, ${asTimestamp('$5')}, ${asTimestamp('$6')}, $7, $8, $9, ${asTimestamp('$10')}, $11)`,
        [
          silence.id,
          silence.useCase,
          JSON.stringify(silence.scope),
          silence.kind,
          micros(silence.from),
          micros(silence.to),
          silence.reason,
          silence.createdBy.name,
          silence.createdBy.role,
          micros(silence.createdAt),
          JSON.stringify(silence),
        ],
      );
      // Stored: the use case's list gains it (the next read loads the list if it is not held).
      this.caches.silences.get(silence.useCase)?.push(silence);
    });
  }

  /**
   * The use case's silences by start, those in force at `at` when given. Held in memory after the
   * first read (this process adds every one): alert processing asks on every scoring pass.
   */
  async silences(useCase: string, at?: number): Promise<Silence[]> {
    let all = this.caches.silences.get(useCase);
    if (!all) {
      const loaded = await this.write(async (c) => {
        const result = await c.runAndReadAll('SELECT silence FROM silences WHERE use_case = $1', [useCase]);
        return result.getRowObjectsJS().map((row) => JSON.parse(text(row.silence)) as Silence);
      });
      all = this.caches.silences.get(useCase) ?? loaded;
      this.caches.silences.set(useCase, all);
    }
    return all
      .filter((silence) => at === undefined || (silence.from <= at && silence.to > at))
      .sort((a, b) => a.from - b.from);
  }

  recordSuppression(s: Suppression): Promise<void> {
    return this.write(async (c) => {
      await c.run(`INSERT INTO suppressions VALUES ($1, $2, $3, $4, $5, ${asTimestamp('$6')}, $7)`, [
        s.useCase,
        s.deviceId,
        s.inference,
        s.rule,
        s.ref,
        micros(s.at),
        s.score,
      ]);
    });
  }

  recordFeedback(f: FeedbackRecord): Promise<void> {
    return this.write(async (c) => {
      await c.run(
        `INSERT INTO feedback VALUES ($1, $2, $3, $4, $5, $6, $7, ${asTimestamp('$8')}, ${asTimestamp('$9')}, $10, $11, ${asTimestamp('$12')}, $13)`,
        [
          f.alertId,
          f.useCase,
          f.deviceId,
          f.label,
          f.detail,
          f.sensor,
          f.workOrder,
          micros(f.from),
          micros(f.to),
          f.actor.name,
          f.actor.role,
          micros(f.at),
          JSON.stringify(f),
        ],
      );
    });
  }

  feedback(useCase: string, since = 0): Promise<FeedbackRecord[]> {
    return this.write(async (c) => {
      const result = await c.runAndReadAll(
        `SELECT feedback FROM feedback WHERE use_case = $1 AND given_at >= ${asTimestamp('$2')} ORDER BY given_at`,
        [useCase, micros(since)],
      );
      return result.getRowObjectsJS().map((row) => JSON.parse(text(row.feedback)) as FeedbackRecord);
    });
  }

  /** The machine events, as the cloud's bus would carry them: the console's live feed reads them. */
  recordEvents(events: readonly AlertEventNotice[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.write(async (c) => {
      for (const event of events) {
        await c.run(`INSERT INTO alert_events VALUES ($1, $2, $3, $4, ${asTimestamp('$5')}, $6)`, [
          event.type,
          event.alert.id,
          event.alert.useCase,
          event.alert.deviceId,
          micros(event.at),
          event.alert.status,
        ]);
      }
    });
  }
}
