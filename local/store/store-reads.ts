import type { LabelledStretch } from '../../core/model/retraining.ts';
import type { Row } from './read-only-query.ts';
import type { StoreQuery } from './query-client.ts';
import { sqlText } from './sql.ts';

/** The local query API's row limit: longer reads page by time. */
const PAGE = 10_000;

/** The devices of a use case that have rows in `table`, by id. */
export async function devicesIn(query: StoreQuery, table: string, useCase: string): Promise<string[]> {
  const { rows } = await query(
    `SELECT DISTINCT device_id FROM ${table} WHERE use_case = ${sqlText(useCase)} ORDER BY device_id`,
  );
  return rows.map((row) => String(row.device_id));
}

/**
 * Every row of one device in `table` after `after` (epoch ms), in time order, read a page at a
 * time: `columns` are selected beside `epoch_ms(time) AS t`, `where` narrows further.
 */
export async function deviceRows(
  query: StoreQuery,
  table: string,
  useCase: string,
  deviceId: string,
  options: { columns: string; after?: number; where?: string },
): Promise<Row[]> {
  const rows: Row[] = [];
  for (let after = options.after ?? -1; ;) {
    const { rows: page } = await query(
      `SELECT epoch_ms(time) AS t, ${options.columns} FROM ${table}
       WHERE use_case = ${sqlText(useCase)} AND device_id = ${sqlText(deviceId)} AND epoch_ms(time) > ${after}
         ${options.where ? `AND ${options.where}` : ''}
       ORDER BY time LIMIT ${PAGE}`,
    );
    rows.push(...page);
    if (page.length < PAGE) return rows;
    after = Number(page[page.length - 1]?.t ?? after);
  }
}

/**
 * The operators' verdicts that still stand (an undone one left its alert without a verdict), as
 * labelled stretches of readings: confirmed faults, and windows judged normal.
 */
export async function standingVerdicts(query: StoreQuery, useCase: string): Promise<LabelledStretch[]> {
  const { rows } = await query(
    `SELECT f.device_id, f.label, epoch_ms(f.from_time) AS from_ms, epoch_ms(f.to_time) AS to_ms
     FROM feedback f JOIN alerts a ON a.id = f.alert_id
     WHERE f.use_case = ${sqlText(useCase)} AND a.verdict IS NOT NULL AND f.label IN ('anomaly', 'normal')`,
  );
  return rows.map((row) => ({
    deviceId: String(row.device_id),
    label: row.label === 'anomaly' ? 'anomaly' : 'normal',
    from: Number(row.from_ms),
    to: Number(row.to_ms),
  }));
}
