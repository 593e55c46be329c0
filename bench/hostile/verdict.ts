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
  const problems: string[] = [];
  const store = await DuckDbStore.open(path.join(dataDir, 'local.duckdb'), { readOnly: true });
  const everything = { maxRows: 10_000_000, timeoutMs: 600_000 };
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
  await store.close();

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
  const unquarantined = malformedAcked.filter((m) => m.marker && !rowsByMarker.has(m.marker));
  const emptyAcked = malformedAcked.filter((m) => m.kind === 'empty').length;
  const emptyRows = quarantineText.filter(
    (row) => row.text === '' && row.deviceId.startsWith('hostile-'),
  ).length;
  const withoutReasons = quarantineText.filter((row) => row.reasons.length === 0).length;
  const oversized = messages.filter((m) => m.kind === 'oversized');
  const oversizedAcked = oversized.filter((m) => m.acked).length;

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
  const agentReadings = telemetry.filter((row) => String(row.device_id).startsWith('agent-')).length;
  const counterMismatches = counterChecks.filter(
    (c) => c.stored !== c.telemetry || c.quarantined !== c.quarantine,
  );

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

  return {
    problems,
    lost,
    duplicated,
    phantom,
    validAcked,
    malformedAcked,
    unquarantined,
    oversized,
    oversizedAcked,
    refusals,
    agentReadings,
    counterMismatches,
  };
}
