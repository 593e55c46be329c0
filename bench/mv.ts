/**
 * Measurement and verification on a simulated site: does the M&V find what changed, and by how
 * much? A site of simulated units runs a baseline period with some units wasting energy (each
 * declared fault on one unit, each declared operating practice on a tenth of them). At the end of
 * the baseline the faults are fixed (their alerts answered) and the supervisory opportunities the
 * data shows are applied (the unit's practice ends); the site runs a reporting period. The KPI's
 * M&V, read from a DuckDB store as the runtime's, reports the baseline fit and the savings with
 * their uncertainty. A twin site with the same seeds, where nothing was changed, gives the savings
 * the simulation actually made, to hold the estimate against.
 *
 * A KPI normalized by running hours (pump-maintenance's downtime per running hour) runs its units
 * in shifts that are shorter after the baseline, with unplanned stops (silence) that become
 * `--fewer-stops` percent rarer on the changed site (bench/mv-pumps.ts): planted, for the M&V to
 * recover while the fleet runs less.
 *
 *   npm run bench:mv [-- --use-case hvac-energy --units 20 --reporting-days 28 --seed 1]
 *   npm run bench:mv -- --use-case pump-maintenance [--fewer-stops 40]
 *
 * A simulation demonstrates the method, not the savings of a real building. The last line is one
 * JSON object: useCase, baselineCvRmsePct, baselineNmbePct, savingsPct, savingsUncertaintyPct
 * (90% confidence, percent of the savings), opportunitiesFound.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { DAY_MS } from '../core/kpi/kpi.ts';
import type { MvSpec } from '../core/kpi/mv/baseline-spec.ts';
import { mvReport } from '../core/kpi/mv/mv-report.ts';
import { findOpportunities, unitHours, type Opportunity } from '../core/kpi/mv/opportunities.ts';
import type { UseCaseManifest } from '../core/usecase/manifest.ts';
import { DuckDbAlertStore } from '../local/store/duckdb-alert-store.ts';
import { DuckDbStore } from '../local/store/duckdb-store.ts';
import { StoreKpiReads } from '../local/store/kpi-reads.ts';
import { loadCatalog, useCaseById } from '../usecases/catalog.ts';
import { pumpOperations } from './mv-pumps.ts';
import { SimulatedSite, type SimulatedSiteOptions } from './mv-site.ts';

const { values } = parseArgs({
  options: {
    'use-case': { type: 'string', default: 'hvac-energy' },
    units: { type: 'string', default: '20' },
    'reporting-days': { type: 'string', default: '28' },
    seed: { type: 'string', default: '1' },
    'fewer-stops': { type: 'string', default: '40' },
  },
});
const wholeIn = (name: string, low: number, high: number): number => {
  const value = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(value) || value < low || value > high)
    throw new Error(
      `--${name} must be a whole number from ${low} to ${high}, got "${values[name as keyof typeof values]}"`,
    );
  return value;
};
const unitCount = wholeIn('units', 4, 200);
const reportingDays = wholeIn('reporting-days', 7, 120);
const seed = wholeIn('seed', 0, 1_000_000);
const fewerStopsPct = wholeIn('fewer-stops', 0, 100);

const { useCases, contracts } = loadCatalog();
const manifest: UseCaseManifest = useCaseById(useCases, values['use-case']);
const contract = contracts.get(manifest.contract);
const kpi = manifest.kpis.find((candidate) => candidate.mv !== undefined);
const spec: MvSpec | undefined = kpi?.mv;
if (!kpi || !spec) throw new Error(`${manifest.id} declares no KPI with an M&V baseline (kpis[].mv)`);
if (!('firstDays' in spec.baselinePeriod))
  throw new Error(
    `bench:mv simulates a site from its first day: ${manifest.id}/${kpi.id} needs baselinePeriod.firstDays`,
  );
const simulation = manifest.simulation;
/** Fields whose hours above a level are a variable: the units run in shifts, stop and stand idle. */
const runningFields = Object.values(spec.variables).flatMap((variable) =>
  variable.aggregate === 'hours-above' ? [variable.field.replace(/^measures\./, '')] : [],
);

// Monday 1 June 2026, after half a day for the simulated lags to settle.
const BASELINE_FROM = Date.UTC(2026, 5, 1);
const START = BASELINE_FROM - DAY_MS / 2;
const REPORTING_FROM = BASELINE_FROM + spec.baselinePeriod.firstDays * DAY_MS;
const END = REPORTING_FROM + reportingDays * DAY_MS;

/** Which unit wastes what in the baseline: each fault on one unit, each practice on a tenth. */
function plantWaste(site: SimulatedSite): Map<string, string[]> {
  const planted = new Map<string, string[]>();
  let next = 0;
  const give = (id: string) => {
    const unit = site.units[next++ % site.units.length];
    if (!unit) return;
    unit.simulator.inject(id, START);
    planted.set(unit.deviceId, [...(planted.get(unit.deviceId) ?? []), id]);
  };
  for (const practice of simulation?.practices ?? [])
    for (let copy = 0; copy < Math.max(1, Math.round(unitCount / 10)); copy++) give(practice.id);
  for (const fault of simulation?.faults ?? []) give(fault.id);
  return planted;
}

/** A recommendation applied: the unit's practices that act on the rule's field end. */
function apply(site: SimulatedSite, opportunity: Opportunity, planted: Map<string, string[]>): boolean {
  const field = manifest.opportunities?.rules[opportunity.rule]?.field.replace(/^measures\./, '');
  const practices = (simulation?.practices ?? []).filter(
    (practice) =>
      planted.get(opportunity.deviceId)?.includes(practice.id) &&
      practice.effects.some((effect) => effect.measure === field),
  );
  for (const practice of practices) site.unit(opportunity.deviceId).simulator.stop(practice.id);
  return practices.length > 0;
}

/** Shifts and unplanned stops, for a KPI normalized by running hours; none otherwise. */
function operations(changed: boolean, deviceIds: readonly string[]): SimulatedSiteOptions {
  if (runningFields.length === 0) return {};
  const plan = pumpOperations({
    units: deviceIds,
    seed,
    from: START,
    reportingFrom: REPORTING_FROM,
    to: END,
    shiftHours: { baseline: 16, reporting: 12 },
    stopsPer100RunningHours: 2,
    fewerStopsPct: changed ? fewerStopsPct : 0,
  });
  // Minutes, not the contract's second: the downtime KPI works in minutes, and 84 days of a fleet stay quick.
  return {
    stepMs: 60_000,
    operation: plan.operation,
    idleMeasures: Object.fromEntries(runningFields.map((field) => [field, 0])),
  };
}

async function simulateSite(changed: boolean) {
  const store = await DuckDbStore.open(':memory:', {
    measureColumns: Object.values(contract.measures).map((m) => m.column),
  });
  // Alert-based KPIs (downtime while a confirmed alert was open) read the alert tables: none opens here.
  await DuckDbAlertStore.open(store);
  const reads = new StoreKpiReads((sql) => store.query(sql, { maxRows: 1_000_000 }), contract);
  const names = new SimulatedSite(manifest, contract, unitCount, seed).units.map((unit) => unit.deviceId);
  const site = new SimulatedSite(manifest, contract, unitCount, seed, operations(changed, names));
  const planted = plantWaste(site);
  const label = changed ? 'site' : 'twin site (nothing changed)';
  const progress = (phase: string) => (done: number) => {
    if (done % 5 === 0 || done === unitCount)
      process.stderr.write(`${label}: ${phase} ${done}/${unitCount} units\n`);
  };
  await site.run(store, START, REPORTING_FROM, progress('baseline'));
  let opportunities: Opportunity[] = [];
  let applied = 0;
  if (changed) {
    opportunities = manifest.opportunities
      ? findOpportunities(
          manifest.opportunities,
          await unitHours(manifest.id, manifest.opportunities, reads, BASELINE_FROM, REPORTING_FROM),
        )
      : [];
    for (const found of opportunities)
      process.stderr.write(`${label}: found ${found.id}: ${found.finding}\n`);
    for (const opportunity of opportunities) if (apply(site, opportunity, planted)) applied++;
    for (const [deviceId, ids] of planted)
      for (const fault of simulation?.faults ?? [])
        if (ids.includes(fault.id)) site.unit(deviceId).simulator.stop(fault.id);
  }
  await site.run(store, REPORTING_FROM, END, progress('reporting'));
  if (!kpi || !spec) throw new Error('unreachable');
  const report = await mvReport(manifest, { ...kpi, mv: spec }, reads, END);
  await store.close();
  return { report, opportunities, applied, planted };
}

const started = Date.now();
const site = await simulateSite(true);
const twin = await simulateSite(false);
const { report } = site;
if (report.status !== 'qualified' || !report.fit || !report.totals)
  throw new Error(`the baseline did not qualify: ${report.reasons.join('; ')}`);
// What the change really saved: the twin's measured cost minus the site's, over the same days.
const twinMeasured =
  twin.report.status === 'qualified' ? (twin.report.totals?.measured ?? Number.NaN) : Number.NaN;
const trueSavings = twinMeasured - report.totals.measured;
const pct = (value: number) => Math.round(value * 10) / 10;

/** How many findings point at a unit that really wasted through the rule's field, and how many applied. */
function findingsText(): string {
  const real = site.opportunities.filter((opportunity) => {
    const field = manifest.opportunities?.rules[opportunity.rule]?.field.replace(/^measures\./, '');
    const wastes = [...(simulation?.practices ?? []), ...(simulation?.faults ?? [])].filter((waste) =>
      site.planted.get(opportunity.deviceId)?.includes(waste.id),
    );
    return wastes.some((waste) => waste.effects.some((effect) => effect.measure === field));
  }).length;
  return `${real} of ${site.opportunities.length} on a unit that wasted through that signal (a planted practice or fault), ${site.opportunities.length - real} false; applying them ended ${site.applied} planted practices (faults are fixed at the same time)`;
}

const planted = [...site.planted].map(([unit, ids]) => `${unit}: ${ids.join(', ')}`).join('; ');
const table = new Table({ head: ['', `${manifest.id} / ${kpi.id}`] });
table.push(
  [
    'site',
    `${unitCount} units, seed ${seed}; baseline ${report.baselinePeriod?.from} to ${report.baselinePeriod?.to}, reporting ${reportingDays} days`,
  ],
  ['wasting in the baseline', planted || 'nothing planted'],
  ...(runningFields.length > 0
    ? [
        [
          'operation',
          `shifts of 16 h a day (± 4) in the baseline, 12 h after; unplanned stops (1-4 h silent) at 2 per 100 running hours, ${fewerStopsPct}% fewer after the baseline on the changed site, as many on the twin`,
        ],
      ]
    : []),
  [
    'baseline model',
    `${report.form} on ${report.variables.join(', ')}${report.model?.changePoint === undefined ? '' : `, change point ${report.model.changePoint.toFixed(1)}`}`,
  ],
  [
    'baseline fit',
    `CV(RMSE) ${pct(report.fit.cvRmsePct)}% (limit ${report.limits.cvRmsePct}), NMBE ${pct(report.fit.nmbePct)}% (±${report.limits.nmbePct}), R² ${report.fit.r2.toFixed(3)}, n ${report.fit.n} ${report.interval}s`,
  ],
  [
    'opportunities found',
    site.opportunities.map((o) => `${o.deviceId} ${o.rule}: ${o.kwhPerYear} kWh/yr`).join('\n') || 'none',
  ],
  ['findings', findingsText()],
  [
    'savings (M&V)',
    `${report.totals.savings.toFixed(0)} ${report.unit} = ${pct(report.totals.savingsPct)}% ± ${pct(report.totals.uncertainty90Pct)}% of it (90%), ± ${pct(report.totals.uncertainty68Pct)}% (68%)`,
  ],
  [
    'savings (twin site)',
    `${trueSavings.toFixed(0)} ${report.unit} = ${pct((trueSavings / twinMeasured) * 100)}% of the unchanged site's measured value`,
  ],
  ['took', `${((Date.now() - started) / 1000).toFixed(0)} s`],
);
console.log(table.toString());
console.log(
  JSON.stringify({
    useCase: manifest.id,
    baselineCvRmsePct: pct(report.fit.cvRmsePct),
    baselineNmbePct: pct(report.fit.nmbePct),
    savingsPct: pct(report.totals.savingsPct),
    savingsUncertaintyPct: pct(report.totals.uncertainty90Pct),
    opportunitiesFound: site.opportunities.length,
  }),
);
