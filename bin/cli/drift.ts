import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { DriftReport } from '../../core/drift/ports.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { dataDirOption } from './options.ts';
import { printTable } from './output.ts';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export function driftCommand(): Command {
  const command = new Command('drift').description(
    'drift checks of the running local runtime: sensor health, data loss, data drift, model performance',
  );
  command
    .command('check')
    .description("run a use case's drift checks now, record the findings, and print them")
    .requiredOption('--use-case <id>', 'the use case')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(async (options: { useCase: string; format: string; dataDir: string }) => {
      const report = await callRuntime<DriftReport>(path.resolve(options.dataDir), 'POST', '/drift/runs', {
        useCase: options.useCase,
      });
      if (options.format === 'json') {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      printReport(report);
    });
  return command;
}

function printReport(report: DriftReport): void {
  const received = report.receipts.reduce((sum, r) => sum + r.received, 0);
  const missing = report.receipts.reduce((sum, r) => sum + r.missing, 0);
  console.log(
    `${report.useCase}: ${report.devices} devices checked over ${iso(report.from)} to ${iso(report.to)} UTC; ` +
      `${received} readings received, ${missing} missing by their sequence numbers`,
  );
  if (report.findings.length === 0) {
    console.log('no findings');
    return;
  }
  printTable(
    ['check', 'device', 'sensor', 'figure', 'threshold', 'finding', 'next step'],
    report.findings.map((f) => ({
      check: f.check,
      device: f.deviceId ?? `model ${f.modelVersion ?? ''}`.trim(),
      sensor: f.sensor ?? '',
      figure: `${f.figure} ${f.unit}`,
      threshold: f.threshold,
      finding: f.summary,
      'next step': f.action,
    })),
  );
}
