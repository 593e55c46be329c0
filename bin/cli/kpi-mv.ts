import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import type { MvReport } from '../../core/kpi/mv/mv-report.ts';
import { figure, fitText, savingsText } from '../../core/kpi/wording.ts';

/** A KPI's M&V in one line of words: the savings, or why there are none yet. */
export function mvSummary(mv: MvReport): string {
  if (mv.status !== 'qualified') return `${mv.status}: ${mv.reasons.join('; ')}`;
  if (!mv.totals) return `baseline qualified; reporting starts ${mv.reportingFrom ?? ''}`;
  return savingsText(mv.totals, mv.unit, mv.reporting.length, mv.interval);
}

/** The baseline as people check it: period, model and fit. */
export function mvBaseline(mv: MvReport): string {
  const period = mv.baselinePeriod ? `${mv.baselinePeriod.from} to ${mv.baselinePeriod.to}` : 'not begun';
  const changePoint =
    mv.model?.changePoint === undefined ? '' : `, change point ${mv.model.changePoint.toFixed(1)}`;
  const fit = mv.fit ? `; ${fitText(mv.fit, mv.limits, mv.interval)}` : '';
  return `${period}: ${mv.form} on ${mv.variables.join(', ')}${changePoint}${fit}`;
}

/** Rows of the recommendations table. */
export function opportunityRows(useCase: string, opportunities: readonly Opportunity[], currency = 'EUR') {
  return opportunities.map((opportunity) => ({
    'use case': useCase,
    unit: opportunity.deviceId,
    finding: opportunity.finding,
    recommendation: opportunity.recommendation,
    'kWh/year': figure(opportunity.kwhPerYear),
    [`${currency}/year`]: figure(opportunity.costPerYear),
  }));
}
