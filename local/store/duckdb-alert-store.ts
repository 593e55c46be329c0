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
import { asTimestamp } from './sql.ts';
import { text, type DuckDbStore } from './duckdb-store.ts';

const micros = (ms: number) => BigInt(Math.round(ms)) * 1000n;

/**
 * Device baselines and alerts in the local store, beside the telemetry they are about, so one
 * `aiot query` joins them. State objects are kept whole as JSON (what the code reads) with the
 * columns people filter on beside them; conditional writes run on the store's single writer
 * connection, one after another, which makes each read-check-write atomic.
 */
export class DuckDbAlertStore implements AlertStore, BaselineStore {
  private constructor(private readonly db: DuckDbStore) {}

  static async open(db: DuckDbStore): Promise<DuckDbAlertStore> {
    await db.withWriter(async (c) => {
      await c.run(ALERT_TABLES);
    });
    return new DuckDbAlertStore(db);
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
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT state FROM device_baselines WHERE use_case = $1 AND device_id = $2',
        [useCase, deviceId],
      );
      return row ? (JSON.parse(text(row.state)) as BaselineState) : undefined;
    });
  }

  save(state: BaselineState): Promise<boolean> {
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT revision, active_version FROM device_baselines WHERE use_case = $1 AND device_id = $2',
        [state.useCase, state.deviceId],
      );
      if (Number(row?.revision ?? 0) !== state.revision - 1) return false;
      await c.run(
        `INSERT OR REPLACE INTO device_baselines (use_case, device_id, revision, state, active_version, calibrating, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())`,
        [
          state.useCase,
          state.deviceId,
          state.revision,
          JSON.stringify(state),
          state.active?.version ?? null,
          state.calibration !== undefined,
        ],
      );
      const active = state.active;
      if (
        active &&
        active.version !==
          (row?.active_version === null || row === undefined ? undefined : Number(row.active_version))
      ) {
        await c.run(
          `INSERT OR IGNORE INTO baseline_versions VALUES ($1, $2, $3, $4, $5, $6, $7, ${asTimestamp('$8')}, ${asTimestamp('$9')}, ${asTimestamp('$10')}, $11, $12::JSON)`,
          [
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
          ],
        );
      }
      return true;
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
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT track FROM alert_tracks WHERE use_case = $1 AND device_id = $2 AND inference = $3',
        [useCase, deviceId, inference],
      );
      return row ? (JSON.parse(text(row.track)) as StoredTrack) : undefined;
    });
  }

  saveTrack(track: StoredTrack): Promise<boolean> {
    return this.write(async (c) => {
      const row = await this.one(
        c,
        'SELECT revision FROM alert_tracks WHERE use_case = $1 AND device_id = $2 AND inference = $3',
        [track.useCase, track.deviceId, track.inference],
      );
      if (Number(row?.revision ?? 0) !== track.revision - 1) return false;
      await c.run('INSERT OR REPLACE INTO alert_tracks VALUES ($1, $2, $3, $4, $5)', [
        track.useCase,
        track.deviceId,
        track.inference,
        track.revision,
        JSON.stringify(track),
      ]);
      return true;
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
    });
  }

  silences(useCase: string, at?: number): Promise<Silence[]> {
    return this.write(async (c) => {
      const result = await c.runAndReadAll(
        at === undefined
          ? 'SELECT silence FROM silences WHERE use_case = $1 ORDER BY starts_at'
          : `SELECT silence FROM silences WHERE use_case = $1 AND starts_at <= ${asTimestamp('$2')} AND ends_at > ${asTimestamp('$2')} ORDER BY starts_at`,
        at === undefined ? [useCase] : [useCase, micros(at)],
      );
      return result.getRowObjectsJS().map((row) => JSON.parse(text(row.silence)) as Silence);
    });
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
