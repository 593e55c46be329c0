import type { AuditEntry, AuditVerdict } from './chain.ts';

/** What an evidence pack holds, as JSON: the period, the chain's state, counts and every entry. */
export interface AuditEvidence {
  readonly generatedAt: string;
  readonly period: { readonly from: string; readonly to: string };
  readonly chain: {
    readonly intact: boolean;
    /** Entries in the whole log, when intact. */
    readonly entries?: number;
    readonly problem?: string;
    readonly message?: string;
    /** The last entry's number and hash: quote it, and a later verify proves nothing before it changed. */
    readonly head?: { readonly seq: number; readonly hash: string };
  };
  readonly counts: {
    readonly byKind: Readonly<Record<string, number>>;
    readonly byActor: readonly { readonly actor: string; readonly role: string; readonly changes: number }[];
  };
  readonly entries: readonly AuditEntry[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Markdown table cells may not break the table. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => cell(String(c))).join(' | ')} |`),
  ].join('\n');
}

/**
 * The evidence of a period: the changes recorded in it, whether the whole chain is intact, and a
 * readable report of both for people who audit (docs/compliance.md says what each part shows).
 */
export function auditReport(
  all: readonly AuditEntry[],
  verdict: AuditVerdict,
  options: { from: number; to: number; now: number },
): { evidence: AuditEvidence; markdown: string } {
  const entries = all.filter((e) => e.at >= options.from && e.at < options.to);
  const evidence: AuditEvidence = {
    generatedAt: iso(options.now),
    period: { from: iso(options.from), to: iso(options.to) },
    chain: verdict.intact
      ? { intact: true, entries: verdict.entries, ...(verdict.head ? { head: verdict.head } : {}) }
      : { intact: false, problem: verdict.problem, message: verdict.message },
    counts: countsOf(entries),
    entries,
  };
  return { evidence, markdown: markdownOf(evidence, verdict) };
}

function countsOf(entries: readonly AuditEntry[]): AuditEvidence['counts'] {
  const byKind: Record<string, number> = {};
  const actors = new Map<string, { actor: string; role: string; changes: number }>();
  for (const e of entries) {
    byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
    const key = `${e.actor.name}\u0000${e.actor.role}`;
    const seen = actors.get(key) ?? { actor: e.actor.name, role: e.actor.role, changes: 0 };
    actors.set(key, { ...seen, changes: seen.changes + 1 });
  }
  return {
    byKind,
    byActor: [...actors.values()].sort((a, b) => b.changes - a.changes || a.actor.localeCompare(b.actor)),
  };
}

function markdownOf(evidence: AuditEvidence, verdict: AuditVerdict): string {
  const { entries, counts } = evidence;
  const { byKind } = counts;
  const verdicts = entries.filter((e) => e.kind === 'alert-verdict');
  const overridden = verdicts.filter((e) => e.details.action === 'false-positive').length;
  return [
    `# Audit evidence, ${evidence.period.from} to ${evidence.period.to}`,
    '',
    `Generated ${evidence.generatedAt} by \`aiot audit export\`.`,
    '',
    '## Integrity of the log',
    '',
    verdict.intact
      ? `The hash chain is intact: ${verdict.entries} entries, each bound to the one before, the last matching the log's head` +
        (verdict.head ? ` (entry ${verdict.head.seq}, hash \`${verdict.head.hash}\`).` : '.')
      : `**The hash chain is NOT intact (${verdict.problem}):** ${verdict.message}. Entries from that point on cannot be relied on.`,
    '',
    '## Changes by kind',
    '',
    entries.length === 0
      ? 'No changes were recorded in this period.'
      : table(['kind', 'changes'], Object.entries(byKind)),
    '',
    '## Changes by person',
    '',
    entries.length === 0
      ? 'Nobody changed anything in this period.'
      : table(
          ['actor', 'role', 'changes'],
          counts.byActor.map((a) => [a.actor, a.role, a.changes]),
        ),
    '',
    '## Human oversight',
    '',
    `People gave ${verdicts.length} verdicts on the system's alerts; ${overridden} of them overrode it (false positive).` +
      ` ${byKind['silence-set'] ?? 0} silences or maintenance windows stopped its alerts for a while;` +
      ` ${byKind['device-rebaselined'] ?? 0} re-baselines changed what it considers normal.`,
    '',
    '## Every change',
    '',
    entries.length === 0 ? 'None.' : changesTable(entries),
    '',
  ].join('\n');
}

function changesTable(entries: readonly AuditEntry[]): string {
  return table(
    ['#', 'time (UTC)', 'kind', 'actor', 'role', 'use case', 'subject', 'reason', 'before', 'after'],
    entries.map((e) => [
      e.seq,
      iso(e.at),
      e.kind,
      e.actor.name,
      e.actor.role,
      e.useCase ?? '',
      e.subject,
      e.reason,
      e.before?.slice(0, 12) ?? '',
      e.after?.slice(0, 12) ?? '',
    ]),
  );
}
