import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_KINDS, type AuditKind } from '../../core/audit/audit-event.ts';
import type { AuditEntry } from '../../core/audit/chain.ts';
import { auditReport } from '../../core/audit/report.ts';
import { FileAuditLog } from '../../local/files/audit-log.ts';
import { dataDirOption, isoTime } from './options.ts';
import { printTable } from './output.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface ListOptions {
  since?: number;
  actor?: string;
  kind?: AuditKind;
  format: string;
  dataDir: string;
}

export function auditCommand(): Command {
  const command = new Command('audit').description(
    'the audit trail of every change: who, in which role, when, what changed, and why',
  );
  command
    .command('list')
    .description('list the recorded changes, oldest first')
    .option('--since <time>', 'only changes at or after this time (ISO 8601)', isoTime('--since'))
    .option('--actor <name>', 'only changes by this person')
    .addOption(new Option('--kind <kind>', 'only changes of this kind').choices([...AUDIT_KINDS]))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action((options: ListOptions) => {
      const entries = FileAuditLog.inDataDir(path.resolve(options.dataDir))
        .entries()
        .filter(
          (e) =>
            (options.since === undefined || e.at >= options.since) &&
            (options.actor === undefined || e.actor.name === options.actor) &&
            (options.kind === undefined || e.kind === options.kind),
        );
      if (options.format === 'json') {
        console.log(JSON.stringify(entries, null, 2));
        return;
      }
      if (entries.length === 0) {
        console.log('no recorded changes match');
        return;
      }
      printTable(
        ['#', 'time (UTC)', 'kind', 'actor', 'role', 'use case', 'subject', 'reason'],
        entries.map(row),
      );
    });
  command
    .command('verify')
    .description(
      'check that no entry was edited, removed, reordered or cut off the end (exit code 1 if one was)',
    )
    .addOption(dataDirOption())
    .action((options: { dataDir: string }) => {
      const log = FileAuditLog.inDataDir(path.resolve(options.dataDir));
      const verdict = log.verify();
      if (verdict.intact) {
        console.log(`${log.file}: intact, ${verdict.entries} entries`);
        return;
      }
      console.error(`${log.file}: NOT INTACT (${verdict.problem}): ${verdict.message}`);
      process.exitCode = 1;
    });
  command
    .command('export')
    .description('write an evidence pack of the changes in a period: evidence.json and a readable report.md')
    .requiredOption('--from <time>', 'start of the period (ISO 8601)', isoTime('--from'))
    .requiredOption('--to <time>', 'end of the period (ISO 8601)', isoTime('--to'))
    .option('--out <dir>', 'folder to write into', 'audit-evidence')
    .addOption(dataDirOption())
    .action((options: { from: number; to: number; out: string; dataDir: string }) => {
      if (options.to <= options.from)
        throw new InvalidArgumentError(
          `--to must be after --from, got ${iso(options.from)} to ${iso(options.to)}`,
        );
      const log = FileAuditLog.inDataDir(path.resolve(options.dataDir));
      const report = auditReport(log.entries(), log.verify(), {
        from: options.from,
        to: options.to,
        now: Date.now(),
      });
      mkdirSync(options.out, { recursive: true });
      writeFileSync(path.join(options.out, 'evidence.json'), `${JSON.stringify(report.evidence, null, 2)}\n`);
      writeFileSync(path.join(options.out, 'report.md'), report.markdown);
      console.log(
        `${report.evidence.entries.length} changes from ${iso(options.from)} to ${iso(options.to)}; chain ${report.evidence.chain.intact ? 'intact' : 'NOT INTACT'}; wrote ${path.join(options.out, 'evidence.json')} and report.md`,
      );
      if (!report.evidence.chain.intact) process.exitCode = 1;
    });
  return command;
}

function row(e: AuditEntry): Record<string, string | number> {
  return {
    '#': e.seq,
    'time (UTC)': iso(e.at),
    kind: e.kind,
    actor: e.actor.name,
    role: e.actor.role,
    'use case': e.useCase ?? '',
    subject: e.subject,
    reason: e.reason,
  };
}
