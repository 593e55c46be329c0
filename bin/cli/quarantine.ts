import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ReplayReport } from '../../core/ingest/quarantine-replay.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { dataDirOption, isoTime } from './options.ts';
import { printTable } from './output.ts';

function reasonText(value: string): string {
  if (value.length === 0 || value.length > 200)
    throw new InvalidArgumentError(`--reason-contains must be 1 to 200 characters, got ${value.length}`);
  return value;
}

/** Everywhere else `--reason` says why a person acts; here it was a filter, and is named for one now. */
function renamedReason(): never {
  throw new InvalidArgumentError(
    '--reason is now --reason-contains: it picks messages by their reasons (elsewhere --reason says why you act)',
  );
}

export function quarantineCommand(): Command {
  const command = new Command('quarantine').description(
    'messages the running local runtime refused and kept aside, with every reason',
  );
  command
    .command('replay')
    .description(
      'after a contract fix or a new version: re-validate quarantined messages, store those that now pass (exactly once), and keep the rest with their new reasons',
    )
    .option('--use-case <id>', 'only this use case')
    .option(
      '--since <time>',
      'only messages quarantined at or after this time (ISO 8601)',
      isoTime('--since'),
    )
    .option(
      '--reason-contains <text>',
      'only messages with a reason whose code or message contains this text',
      reasonText,
    )
    .addOption(new Option('--reason <text>').hideHelp().argParser(renamedReason))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(
      async (options: {
        useCase?: string;
        since?: number;
        reasonContains?: string;
        format: string;
        dataDir: string;
      }) => {
        const report = await callRuntime<ReplayReport>(
          path.resolve(options.dataDir),
          'POST',
          '/quarantine/replays',
          {
            ...(options.useCase === undefined ? {} : { useCase: options.useCase }),
            ...(options.since === undefined ? {} : { since: new Date(options.since).toISOString() }),
            ...(options.reasonContains === undefined ? {} : { reason: options.reasonContains }),
          },
        );
        if (options.format === 'json') {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(
          `${report.examined} quarantined messages re-validated: ${report.stored} stored now, ` +
            `${report.alreadyStored} already stored, ${report.stillQuarantined} still quarantined` +
            (report.retry > 0 ? `, ${report.retry} left for the next replay (the store was busy)` : ''),
        );
        if (report.stillRefusedBy.length > 0) {
          printTable(
            ['still refused for', 'messages'],
            report.stillRefusedBy.map((r) => ({ 'still refused for': r.code, messages: r.count })),
          );
          console.log(
            'their reasons are updated: aiot query "SELECT * FROM quarantine WHERE replayed_at IS NOT NULL"',
          );
        }
      },
    );
  return command;
}
