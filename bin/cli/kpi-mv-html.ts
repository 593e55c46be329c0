import { escapeHtml as escape } from './html.ts';
import { mvFigures, type MvReport } from '../../core/kpi/mv/mv-report.ts';
import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { figure, mvBaseline, mvSummary } from '../../core/kpi/wording.ts';

const WIDTH = 560;
const HEIGHT = 140;

/**
 * Measured against the baseline model, per interval, as an inline SVG: the baseline period as
 * fitted, then the reporting period as predicted from its own conditions; the gap is the savings.
 */
function mvPlot(mv: MvReport): string {
  const points = [
    ...mv.fitted.map((point) => ({ ...point, reporting: false })),
    ...mv.reporting.map((point) => ({ ...point, reporting: true })),
  ];
  if (points.length < 2) return '';
  const values = points.flatMap((point) => [point.measured, point.predicted]);
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const x = (index: number) => (index / (points.length - 1)) * (WIDTH - 8) + 4;
  const y = (value: number) => HEIGHT - 4 - ((value - min) / span) * (HEIGHT - 8);
  const line = (key: 'measured' | 'predicted') =>
    points
      .map((point, index) => `${index === 0 ? 'M' : 'L'}${x(index).toFixed(1)},${y(point[key]).toFixed(1)}`)
      .join(' ');
  const split = points.findIndex((point) => point.reporting);
  const divider =
    split > 0
      ? `<line class="split" x1="${x(split).toFixed(1)}" x2="${x(split).toFixed(1)}" y1="0" y2="${HEIGHT}"><title>reporting starts ${escape(mv.reportingFrom ?? '')}</title></line>`
      : '';
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="measured against the baseline model, per ${mv.interval}">
  ${divider}
  <path class="predicted" d="${line('predicted')}"><title>baseline model</title></path>
  <path class="measured" d="${line('measured')}"><title>measured</title></path>
</svg>`;
}

/** A KPI card's M&V part: baseline, fit, savings and the plot. */
export function mvSection(mv: MvReport): string {
  return `<div class="mv ${mv.status === 'qualified' ? 'qualified' : 'refused'}">
  <h3>Savings against a measured baseline</h3>
  <p><strong>${escape(mvSummary(mvFigures(mv)))}</strong></p>
  <p>Baseline ${escape(mvBaseline(mv))}.</p>
  ${mv.status === 'qualified' ? mvPlot(mv) : ''}
</div>`;
}

/** The recommendations with their yearly estimates. */
export function recommendationsSection(
  recommendations: readonly (Opportunity & { useCase: string; currency: string })[],
): string {
  const rows = recommendations
    .map(
      (found) =>
        `<tr><td>${escape(found.useCase)}</td><td>${escape(found.deviceId)}</td><td>${escape(found.finding)}</td><td>${escape(found.recommendation)}</td><td class="n">${figure(found.kwhPerYear)}</td><td class="n">${figure(found.costPerYear)} ${escape(found.currency)}</td></tr>`,
    )
    .join('\n');
  return `<section class="recommendations">
<h2>Recommendations</h2>
<p>From the last two weeks of data: each unit's empty hours against the fleet's median unit. Estimates per year, to be measured by the M&amp;V once applied.</p>
${recommendations.length === 0 ? '<p>none</p>' : `<table><thead><tr><th>use case</th><th>unit</th><th>finding</th><th>recommendation</th><th>kWh/year</th><th>cost/year</th></tr></thead><tbody>${rows}</tbody></table>`}
</section>`;
}

export const MV_STYLE = `.mv { border-top: 1px solid #ddd; margin-top: 0.5rem; } .mv h3 { font-size: 1rem; margin: 0.5rem 0 0; }
svg .measured { fill: none; stroke: #1565c0; stroke-width: 1.5; } svg .predicted { fill: none; stroke: #ef6c00; stroke-width: 1.5; stroke-dasharray: 3 2; }
svg .split { stroke: #555; } table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; } td.n { text-align: right; }`;
