import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { kpiReport, type KpiReportRow } from '../../core/kpi/report.ts';
import { mvBaseline, mvSummary, statusText, withUnit } from '../../core/kpi/wording.ts';
import { StoreKpiReads } from '../../local/store/kpi-reads.ts';
import { withLocalStore } from '../../local/store/query-client.ts';
import { kpiDaysIn } from '../../local/schedules/kpi-schedule.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { recentOpportunities, type Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { kpiReportHtml } from './kpi-html.ts';
import { opportunityRows } from './kpi-mv.ts';
import { mvFigures } from '../../core/kpi/mv/mv-report.ts';
import { callRuntime } from '../../local/http/runtime-client.ts';
import { actorOf, actorOptions, dataDirOption, integer } from './options.ts';
import { printTable } from './output.ts';

export function kpiCommand(): Command {
  return new Command('kpi')
    .description("the use cases' KPIs, computed from the store")
    .addCommand(reportCommand())
    .addCommand(acceptCommand());
}

/** `aiot kpi report`: each KPI against its baseline and target, its M&V and the recommendations. */
function reportCommand(): Command {
  return new Command('report')
    .description(
      'each KPI against its baseline and target, with its daily trend: days the runtime computed (kpis table) and, for the rest, computed now from the store (read-only)',
    )
    .option('--use-case <id>', 'one use case (default: all)')
    .option('--days <n>', 'full days before today', integer('--days', 1, 366), 30)
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'html']).default('table'),
    )
    .option('--out <file>', 'write the report here instead of standard output (html: a page to open)')
    .addOption(dataDirOption())
    .action(
      async (options: {
        useCase?: string;
        days: number;
        format: 'table' | 'json' | 'html';
        out?: string;
        dataDir: string;
      }) => {
        const { useCases, contracts } = loadCatalog();
        const chosen =
          options.useCase === undefined ? useCases : useCases.filter((u) => u.id === options.useCase);
        if (chosen.length === 0)
          throw new Error(`unknown use case "${options.useCase}" (${useCases.map((u) => u.id).join(', ')})`);
        const now = new Date();
        const { rows, recommendations, looked } = await withLocalStore(
          path.resolve(options.dataDir),
          async (query) => {
            const known = await kpiDaysIn(query);
            const all: KpiReportRow[] = [];
            const found: (Opportunity & { useCase: string; currency: string })[] = [];
            for (const manifest of chosen) {
              const reads = new StoreKpiReads(query, contracts.get(manifest.contract));
              all.push(...(await kpiReport(manifest, reads, now.getTime(), options.days, known)));
              const spec = manifest.opportunities;
              if (spec)
                for (const opportunity of await recentOpportunities(manifest.id, spec, reads, now.getTime()))
                  found.push({ ...opportunity, useCase: manifest.id, currency: spec.currency });
            }
            return {
              rows: all,
              recommendations: found,
              looked: chosen.some((manifest) => manifest.opportunities),
            };
          },
        );
        const text =
          options.format === 'json'
            ? `${JSON.stringify({ kpis: rows, recommendations }, null, 2)}\n`
            : options.format === 'html'
              ? kpiReportHtml(rows, now, options.days, recommendations)
              : undefined;
        if (text === undefined) {
          printTable(
            ['use case', 'KPI', 'baseline', 'target', 'current', 'change', 'status', 'trend'],
            rows.map((row) => ({
              'use case': row.useCase,
              KPI: row.kpi,
              baseline: withUnit(row.baseline, row.unit, row.period),
              target: `${row.target} (${row.targetRange.low === row.targetRange.high ? row.targetRange.low : `${row.targetRange.low}..${row.targetRange.high}`})`,
              current: row.current ?? (row.measuredOutside === null ? 'no data' : 'measured outside'),
              change: row.change === null ? '' : `${row.change > 0 ? '+' : ''}${row.change}%`,
              status: statusText(row),
              trend: sparkline(row.trend.map((point) => point.value)),
            })),
          );
          printMv(rows, looked ? recommendations : undefined);
          return;
        }
        if (options.out) {
          writeFileSync(options.out, text);
          console.log(`wrote ${options.out}`);
        } else process.stdout.write(text);
      },
    );
}

/** `aiot kpi accept <id>`: a recommendation accepted, in the audit trail with its estimate. */
function acceptCommand(): Command {
  return actorOptions(
    new Command('accept')
      .description(
        'accept a recommendation of the report (its id, e.g. fansAfterHours/ahu-003): kept in the audit trail with who accepted it and its estimate',
      )
      .argument('<id>', 'the recommendation id, <rule>/<unit>')
      .requiredOption('--use-case <id>', 'the use case it belongs to')
      .option('--note <text>', 'what will be changed, for the record'),
  )
    .addOption(dataDirOption())
    .action(
      async (
        id: string,
        options: { user: string; role: string; useCase: string; note?: string; dataDir: string },
      ) => {
        const { accepted } = await callRuntime<{ accepted: Opportunity }>(
          path.resolve(options.dataDir),
          'POST',
          '/recommendations',
          { actor: actorOf(options), useCase: options.useCase, id, note: options.note ?? '' },
        );
        console.log(
          `${accepted.id}: accepted by ${options.user} (${options.role}); estimated ${accepted.kwhPerYear} kWh a year, ${accepted.costPerYear} a year at the manifest's price`,
        );
      },
    );
}

/** The savings against measured baselines, and the recommendations, below the KPI table. */
function printMv(
  rows: readonly KpiReportRow[],
  recommendations: readonly (Opportunity & { useCase: string; currency: string })[] | undefined,
): void {
  const measured = rows.filter((row) => row.mv !== null);
  if (measured.length > 0) {
    console.log('\nSavings against a measured baseline (M&V, ASHRAE Guideline 14; docs/kpis.md):');
    printTable(
      ['use case', 'KPI', 'baseline', 'savings'],
      measured.map((row) => ({
        'use case': row.useCase,
        KPI: row.kpi,
        baseline: row.mv ? mvBaseline(row.mv) : '',
        savings: row.mv ? mvSummary(mvFigures(row.mv)) : '',
      })),
    );
  }
  if (recommendations) {
    console.log(
      '\nRecommendations from the last two weeks of data (estimates, to be measured once applied):',
    );
    if (recommendations.length === 0) console.log('none');
    else {
      const [first] = recommendations;
      printTable(
        ['use case', 'unit', 'finding', 'recommendation', 'kWh/year', `${first?.currency ?? 'EUR'}/year`],
        recommendations.flatMap((found) => opportunityRows(found.useCase, [found], found.currency)),
      );
    }
  }
}

const BARS = '▁▂▃▄▅▆▇█';

/** The daily values as a line of block characters (a blank where a day has none). */
function sparkline(values: readonly (number | null)[]): string {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0) return '';
  const min = Math.min(...known);
  const span = Math.max(...known) - min || 1;
  return values
    .map((value) =>
      value === null ? ' ' : (BARS[Math.round(((value - min) / span) * (BARS.length - 1))] ?? ' '),
    )
    .join('');
}
