import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { compareContracts } from '../../core/contracts/compatibility.ts';
import { thingNameSchema } from '../../core/contracts/contract.ts';
import {
  contractJsonSchema,
  contractJsonSchemaFileName,
  publishedMeasures,
} from '../../core/contracts/json-schema.ts';
import { CONTRACTS_DIR, loadContracts } from '../../contracts/catalog.ts';
import { integer } from './options.ts';
import { printTable } from './output.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

function timestamp(value: string): string {
  if (value === 'now') return new Date().toISOString();
  const time = Date.parse(value);
  if (Number.isNaN(time))
    throw new InvalidArgumentError(`--timestamp must be "now" or an ISO 8601 time, got "${value}"`);
  return new Date(time).toISOString();
}

function thing(value: string): string {
  const parsed = thingNameSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidArgumentError(
      `--device ${parsed.error.issues[0]?.message ?? 'is not a thing name'}, got "${value}"`,
    );
  return value;
}

function listSubcommand(): Command {
  return new Command('list')
    .description(
      `list the data contracts (${path.relative(process.cwd(), CONTRACTS_DIR) || 'contracts'}/*.yaml) and their measures`,
    )
    .action(() => {
      const rows = loadContracts()
        .all()
        .flatMap((contract) =>
          Object.entries(contract.measures).map(([name, spec]) => ({
            contract: contract.ref,
            measure: `measures.${name}`,
            unit: spec.unit,
            range: `${spec.min}..${spec.max}`,
            optional: spec.optional ? 'yes' : 'no',
            column: spec.column,
          })),
        );
      printTable(['contract', 'measure', 'unit', 'range', 'optional', 'column'], rows);
    });
}

function diffSubcommand(): Command {
  return new Command('diff')
    .description(
      'every change from one contract version to another, classified compatible or breaking, with the reason',
    )
    .argument('<from>', 'contract reference, e.g. pump.telemetry@1')
    .argument('<to>', 'contract reference, e.g. pump.telemetry@2')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((from: string, to: string, options: { format: string }) => {
      const contracts = loadContracts();
      const comparison = compareContracts(contracts.get(from), contracts.get(to));
      if (options.format === 'json') {
        console.log(JSON.stringify(comparison, null, 2));
        return;
      }
      if (comparison.changes.length > 0) {
        printTable(
          ['measure', 'change', 'compatible', 'why'],
          comparison.changes.map((c) => ({
            measure: c.measure,
            change: c.kind,
            compatible: c.compatible ? 'yes' : 'NO',
            why: c.reason,
          })),
        );
      }
      const breaking = comparison.changes.filter((c) => !c.compatible).length;
      console.log(
        comparison.changes.length === 0
          ? `${from} and ${to} define the same measures`
          : breaking === 0
            ? `${from} -> ${to}: compatible (${comparison.changes.length} changes)`
            : `${from} -> ${to}: BREAKING (${breaking} of ${comparison.changes.length} changes); devices need to move to the new version`,
      );
    });
}

function exampleSubcommand(): Command {
  return new Command('example')
    .description(
      'print one valid payload of a contract; a reading is identified by device and timestamp, so give each new one its own --timestamp (and the next --seq)',
    )
    .argument('<contract>', 'contract reference, e.g. pump.telemetry@1')
    .option('--device <thing>', 'deviceId of the reading', thing, 'pump-001')
    .option('--seq <n>', 'per-device sequence number', integer('--seq', 0, Number.MAX_SAFE_INTEGER), 0)
    .option('--timestamp <time>', 'ISO 8601 time of the reading, or "now"', timestamp, 'now')
    .action((ref: string, options: { device: string; seq: number; timestamp: string }) => {
      const time = options.timestamp === 'now' ? new Date().toISOString() : options.timestamp;
      console.log(
        JSON.stringify(
          loadContracts().get(ref).example({ deviceId: options.device, seq: options.seq, timestamp: time }),
          null,
          2,
        ),
      );
    });
}

function generateSubcommand(): Command {
  return new Command('generate')
    .description(
      `write the JSON Schema of every contract file into ${path.relative(process.cwd(), CONTRACTS_DIR) || 'contracts'}/, for device developers`,
    )
    .option('--check', 'fail if a checked-in schema differs from its contract file instead of writing it')
    .action((options: { check?: boolean }) => {
      mkdirSync(CONTRACTS_DIR, { recursive: true });
      const stale: string[] = [];
      const breaking: string[] = [];
      for (const contract of loadContracts().all()) {
        const file = path.join(CONTRACTS_DIR, contractJsonSchemaFileName(contract));
        const text = `${JSON.stringify(contractJsonSchema(contract), null, 2)}\n`;
        let current = '';
        try {
          current = readFileSync(file, 'utf8');
        } catch {
          // missing counts as stale
        }
        if (current === text) continue;
        if (current !== '') {
          // A published contract may change compatibly; a breaking change is a new version.
          const comparison = compareContracts(
            { ref: contract.ref, measures: publishedMeasures(JSON.parse(current), contract) },
            contract,
          );
          if (!comparison.compatible) {
            breaking.push(
              `${contract.ref}: ${comparison.changes
                .filter((c) => !c.compatible)
                .map((c) => `${c.measure} ${c.reason}`)
                .join('; ')}`,
            );
            continue;
          }
        }
        if (options.check) stale.push(path.relative(REPO_ROOT, file));
        else {
          writeFileSync(file, text);
          console.log(`wrote ${path.relative(process.cwd(), file)}`);
        }
      }
      if (breaking.length > 0) {
        console.error(
          `breaking change to a published contract, kept as it was: ${breaking.join(' | ')}; publish the change as a new version (id@next) and let devices move over`,
        );
        process.exitCode = 1;
      }
      if (stale.length > 0) {
        console.error(
          `stale JSON Schema: ${stale.join(', ')}; run "npm run contracts:generate" and commit the result`,
        );
        process.exitCode = 1;
      } else if (options.check && breaking.length === 0) console.log('contract schemas are up to date');
    });
}

export function contractsCommand(): Command {
  const command = new Command('contracts').description('data contracts');
  command.addCommand(listSubcommand());
  command.addCommand(diffSubcommand());
  command.addCommand(exampleSubcommand());
  command.addCommand(generateSubcommand());
  return command;
}
