import * as path from 'node:path';
import { DuckDbStore } from '../../local/store/duckdb-store.ts';
import { MALFORMED, type Message } from './messages.ts';

/** What a run that ended with Ctrl-C printed, beside the rows it added. */
export interface CounterCheck {
  readonly run: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly telemetry: number;
  readonly quarantine: number;
}

type Row = Record<string, unknown>;

/** Every stored reading, quarantine row and size refusal, read once from the store. */
async function readRows(dataDir: string) {
  const store = await DuckDbStore.open(path.join(dataDir, 'local.duckdb'), { readOnly: true });
  const everything = { maxRows: 10_000_000, timeoutMs: 600_000 };
  try {
    const telemetry = (
      await store.query(
        "SELECT device_id, strftime(time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS t, seq FROM telemetry",
        everything,
      )
    ).rows;
    const quarantine = (
      await store.query('SELECT id, device_id, payload, payload_base64, reasons FROM quarantine', everything)
    ).rows;
    const refusals = (
      await store.query("SELECT thing, reason FROM refusals WHERE reason LIKE '%over the%'", everything)
    ).rows;
    return { telemetry, quarantine, refusals };
  } finally {
    await store.close();
  }
}

/** Acknowledged valid readings against stored ones: lost, duplicated, never sent. */
function readingsVerdict(telemetry: readonly Row[], messages: readonly Message[]) {
  const storedKeys = new Map<string, number>();
  for (const row of telemetry) {
    const key = `${String(row.device_id)}|${String(row.t)}`;
    storedKeys.set(key, (storedKeys.get(key) ?? 0) + 1);
  }
  const validSent = new Set(messages.filter((m) => m.key).map((m) => m.key));
  const validAcked = new Set(messages.filter((m) => m.key && m.acked).map((m) => m.key));
  const lost = [...validAcked].filter((key) => !storedKeys.has(key ?? ''));
  const duplicated = [...storedKeys].filter(([, count]) => count > 1);
  const phantom = [...storedKeys.keys()].filter((key) => key.startsWith('hostile-') && !validSent.has(key));
  return { validAcked, lost, duplicated, phantom };
}

/** Acknowledged malformed messages against quarantine rows (found by the marker in their text). */
function quarantineVerdict(quarantine: readonly Row[], messages: readonly Message[]) {
  const quarantineText = quarantine.map((row) => ({
    text:
      row.payload === null
        ? Buffer.from(String(row.payload_base64), 'base64').toString('latin1')
        : (row.payload as string),
    reasons: JSON.parse(String(row.reasons)) as unknown[],
    deviceId: String(row.device_id),
  }));
  const rowsByMarker = new Map<string, number>();
  const markers = new Set(messages.filter((m) => m.marker && m.kind !== 'oversized').map((m) => m.marker));
  for (const row of quarantineText) {
    const found = /m\d+x/.exec(row.text)?.[0];
    if (found && markers.has(found)) rowsByMarker.set(found, (rowsByMarker.get(found) ?? 0) + 1);
  }
  const malformedAcked = messages.filter((m) => m.acked && MALFORMED.includes(m.kind));
  const oversized = messages.filter((m) => m.kind === 'oversized');
  return {
    malformedAcked,
    unquarantined: malformedAcked.filter((m) => m.marker && !rowsByMarker.has(m.marker)),
    emptyAcked: malformedAcked.filter((m) => m.kind === 'empty').length,
    emptyRows: quarantineText.filter((row) => row.text === '' && row.deviceId.startsWith('hostile-')).length,
    withoutReasons: quarantineText.filter((row) => row.reasons.length === 0).length,
    oversized,
    oversizedAcked: oversized.filter((m) => m.acked).length,
  };
}

/** Each edge agent's sequence numbers: every one from 0 stored exactly once. */
function sequenceGaps(telemetry: readonly Row[], agentThings: readonly string[]): string[] {
  const gaps: string[] = [];
  for (const thing of agentThings) {
    const seqs = telemetry
      .filter((row) => row.device_id === thing)
      .map((row) => Number(row.seq))
      .sort((a, b) => a - b);
    const expected = seqs.length === 0 ? 0 : (seqs.at(-1) ?? 0) + 1;
    if (seqs.length !== expected || new Set(seqs).size !== seqs.length)
      gaps.push(`${thing}: ${seqs.length} rows for seq 0..${expected - 1}`);
  }
  return gaps;
}

function problemsOf(
  readings: ReturnType<typeof readingsVerdict>,
  quarantined: ReturnType<typeof quarantineVerdict>,
  gaps: readonly string[],
  counterMismatches: readonly CounterCheck[],
): string[] {
  const { lost, duplicated, phantom } = readings;
  const { unquarantined, emptyAcked, emptyRows, withoutReasons, oversizedAcked } = quarantined;
  const problems: string[] = [];
  if (lost.length > 0)
    problems.push(
      `${lost.length} acknowledged valid readings not stored, e.g. ${lost.slice(0, 3).join(', ')}`,
    );
  if (duplicated.length > 0) problems.push(`${duplicated.length} readings stored more than once`);
  if (phantom.length > 0) problems.push(`${phantom.length} stored readings were never sent`);
  if (unquarantined.length > 0)
    problems.push(
      `${unquarantined.length} acknowledged malformed messages have no quarantine row, e.g. ${unquarantined
        .slice(0, 3)
        .map((m) => `${m.kind} ${m.marker ?? ''}`)
        .join(', ')}`,
    );
  if (emptyRows < emptyAcked)
    problems.push(`${emptyAcked} empty payloads acknowledged, ${emptyRows} quarantine rows`);
  if (withoutReasons > 0) problems.push(`${withoutReasons} quarantine rows without reasons`);
  if (oversizedAcked > 0) problems.push(`${oversizedAcked} oversized messages were acknowledged`);
  if (gaps.length > 0) problems.push(`edge agent sequence gaps: ${gaps.join('; ')}`);
  if (counterMismatches.length > 0)
    problems.push(`counters differ from rows: ${JSON.stringify(counterMismatches)}`);
  return problems;
}

/**
 * The hostile bench's verdict, from the store itself: what was acknowledged and stored (once),
 * quarantined (with reasons), refused; the agents' sequences; each clean run's counters.
 */
export async function readVerdict(
  dataDir: string,
  messages: readonly Message[],
  agentThings: readonly string[],
  counterChecks: readonly CounterCheck[],
) {
  const { telemetry, quarantine, refusals } = await readRows(dataDir);
  const readings = readingsVerdict(telemetry, messages);
  const quarantined = quarantineVerdict(quarantine, messages);
  const gaps = sequenceGaps(telemetry, agentThings);
  const agentReadings = telemetry.filter((row) => String(row.device_id).startsWith('agent-')).length;
  const counterMismatches = counterChecks.filter(
    (c) => c.stored !== c.telemetry || c.quarantined !== c.quarantine,
  );
  return {
    problems: problemsOf(readings, quarantined, gaps, counterMismatches),
    lost: readings.lost,
    duplicated: readings.duplicated,
    phantom: readings.phantom,
    validAcked: readings.validAcked,
    malformedAcked: quarantined.malformedAcked,
    unquarantined: quarantined.unquarantined,
    oversized: quarantined.oversized,
    oversizedAcked: quarantined.oversizedAcked,
    refusals,
    agentReadings,
    counterMismatches,
  };
}
