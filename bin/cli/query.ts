import * as path from 'node:path';
import { Command, Option } from 'commander';
import { queryLocalStore } from '../../local/store/query-client.ts';
import { dataDirOption } from './options.ts';
import { printTable } from './output.ts';

export function queryCommand(): Command {
  return new Command('query')
    .description(
      'run one read-only SQL statement on the local store (tables: telemetry, inferences, quarantine, quarantine_resolved, device_health, refusals, dead_letter), running or not',
    )
    .argument('<sql>', 'a SELECT (or EXPLAIN) statement')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(async (sql: string, options: { format: 'table' | 'json'; dataDir: string }) => {
      const result = await queryLocalStore(path.resolve(options.dataDir), sql);
      if (options.format === 'json') console.log(JSON.stringify(result.rows, null, 2));
      else {
        printTable(result.columns, result.rows);
        console.log(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`);
      }
      if (result.truncated)
        console.error(
          `the result has more rows than these ${result.rows.length}: add LIMIT/OFFSET or aggregate`,
        );
    });
}
