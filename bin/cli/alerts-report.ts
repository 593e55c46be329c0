import * as path from 'node:path';
import { Command, Option } from 'commander';
import { alarmMeasures } from '../../core/alerts/alarm-measures.ts';
import { alarmPerformance, CHATTER, type AlarmPerformance } from '../../core/alerts/alarm-performance.ts';
import type { Alert } from '../../core/alerts/lifecycle.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { dataDirOption, positiveNumber } from './options.ts';
import { printTable } from './output.ts';

/** The most the runtime's API lists at once: a report that reaches it says so. */
const MAX_LISTED = 1000;
const MAX_HOURS = 24 * 31;

const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

/** The report as tables: the figures against the targets, then the sources behind them. */
function printReport(report: AlarmPerformance): void {
  printTable(
    ['measure', 'value', 'ISA-18.2 target per position'],
    alarmMeasures(report).map((m) => ({
      measure: m.measure,
      value: m.value,
      'ISA-18.2 target per position': m.target,
    })),
  );
  if (report.badActors.length > 0) {
    console.log('bad actors: the sources making most of the load');
    printTable(
      ['use case', 'device', 'inference', 'alerts', 'share'],
      report.badActors.map((s) => ({
        'use case': s.useCase,
        device: s.deviceId,
        inference: s.inference,
        alerts: s.alerts,
        share: percent(s.share),
      })),
    );
  }
  for (const s of report.chattering)
    console.log(
      `chattering: ${s.useCase}/${s.deviceId} ${s.inference}, ${s.bursts} burst(s) of ${CHATTER.count}+ in a minute`,
    );
  for (const a of report.stale)
    console.log(`stale: ${a.id} (${a.status} since ${new Date(a.openedAt).toISOString()})`);
}

/** `aiot alerts report`: the alarm-system figures of the last hours, against ISA-18.2's targets. */
export function reportCommand(): Command {
  return new Command('report')
    .description(
      'alarm-system performance as ISA-18.2 / EEMUA 191 read it: alerts per operator position per day and per 10 minutes, time in flood, the bad actors, chattering and stale alerts',
    )
    .option('--use-case <id>', 'only this use case')
    .option('--hours <n>', 'the window, ending now', positiveNumber('--hours', MAX_HOURS), 24)
    .option(
      '--positions <n>',
      'operator positions sharing these alerts',
      positiveNumber('--positions', 1000),
      1,
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(
      async (options: {
        useCase?: string;
        hours: number;
        positions: number;
        format: string;
        dataDir: string;
      }) => {
        const query = new URLSearchParams({
          limit: String(MAX_LISTED),
          ...(options.useCase ? { 'use-case': options.useCase } : {}),
        });
        const { alerts } = await callRuntime<{ alerts: Alert[] }>(
          path.resolve(options.dataDir),
          'GET',
          `/alerts?${query.toString()}`,
        );
        const to = Date.now();
        const from = to - options.hours * 3_600_000;
        const report = alarmPerformance(alerts, { from, to, positions: Math.round(options.positions) });
        const oldest = alerts.at(-1)?.openedAt;
        const truncated = alerts.length >= MAX_LISTED && oldest !== undefined && oldest > from;
        if (options.format === 'json') {
          console.log(JSON.stringify({ ...report, truncated }, null, 2));
          return;
        }
        if (truncated)
          console.log(
            `only the newest ${MAX_LISTED} alerts are read, back to ${new Date(oldest).toISOString()}: the figures cover less than the window`,
          );
        printReport(report);
      },
    );
}
