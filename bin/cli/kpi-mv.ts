import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { figure } from '../../core/kpi/wording.ts';

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
