import { escapeHtml as escape } from './html.ts';
import type { KpiReportRow } from '../../core/kpi/report.ts';
import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { statusText, withUnit } from '../../core/kpi/wording.ts';
import { MV_STYLE, mvSection, recommendationsSection } from './kpi-mv-html.ts';

const WIDTH = 360;
const HEIGHT = 90;

/** The daily trend against the baseline and the target, as an inline SVG (no script, no network). */
function trendPlot(row: KpiReportRow): string {
  const points = row.trend.flatMap((point, index) =>
    point.value === null ? [] : [{ index, value: point.value }],
  );
  if (points.length === 0) return '<p class="none">no data in the period</p>';
  const values = [...points.map((p) => p.value), row.baseline, row.targetRange.low, row.targetRange.high];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (index: number) =>
    row.trend.length <= 1 ? WIDTH / 2 : (index / (row.trend.length - 1)) * (WIDTH - 8) + 4;
  const y = (value: number) => HEIGHT - 4 - ((value - min) / span) * (HEIGHT - 8);
  const line = (value: number, css: string, label: string) =>
    `<line class="${css}" x1="0" x2="${WIDTH}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}"><title>${escape(label)}</title></line>`;
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.index).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(' ');
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escape(`${row.kpi}: daily values against baseline and target`)}">
  ${line(row.baseline, 'baseline', `baseline ${row.baseline} ${row.unit}`)}
  <rect class="target" x="0" width="${WIDTH}" y="${y(Math.max(row.targetRange.low, row.targetRange.high)).toFixed(1)}" height="${Math.max(1, Math.abs(y(row.targetRange.low) - y(row.targetRange.high))).toFixed(1)}"><title>${escape(`target ${row.target}`)}</title></rect>
  <path class="value" d="${path}"/>
  ${points.map((p) => `<circle cx="${x(p.index).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2"><title>${escape(`${row.trend[p.index]?.day ?? ''}: ${p.value}`)}</title></circle>`).join('')}
</svg>`;
}

/** The KPI report as one self-contained HTML page: a card per KPI with its trend plot. */
export function kpiReportHtml(
  rows: readonly KpiReportRow[],
  generatedAt: Date,
  days: number,
  recommendations?: readonly (Opportunity & { useCase: string; currency: string })[],
): string {
  const cards = rows
    .map((row) => {
      const current =
        row.current === null
          ? row.measuredOutside === null
            ? 'no full day of data yet'
            : `measured outside the pipeline: ${escape(row.measuredOutside)}`
          : `${escape(withUnit(row.current, row.unit, row.period))} over ${row.fullDays} full ${row.fullDays === 1 ? 'day' : 'days'}${row.change === null ? '' : ` (${row.change > 0 ? '+' : ''}${row.change}% against the baseline)`}`;
      // Green and red only for a verdict: too little data is grey, however good the number looks.
      const css = {
        'on target': 'met',
        'not yet': 'open',
        'too little data': 'pending',
        'measured outside': 'outside',
      }[row.status];
      return `<section class="kpi ${css}">
  <h2>${escape(row.useCase)} · ${escape(row.kpi)}</h2>
  <p>${escape(row.description)}</p>
  <dl>
    <dt>baseline</dt><dd>${escape(withUnit(row.baseline, row.unit, row.period))}</dd>
    <dt>target</dt><dd>${escape(row.target)} (${row.targetRange.low}${row.targetRange.low === row.targetRange.high ? '' : ` to ${row.targetRange.high}`} ${escape(row.unit)})</dd>
    <dt>current</dt><dd>${current}</dd>
    <dt>status</dt><dd>${escape(statusText(row))}</dd>
    <dt>measured by</dt><dd>${escape(row.measuredBy)}</dd>
  </dl>
  ${row.current === null ? '' : trendPlot(row)}
  ${row.mv ? mvSection(row.mv) : ''}
</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>aiot KPI report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
.kpi { border: 1px solid #ccc; border-left-width: 6px; border-radius: 4px; padding: 0.5rem 1rem; margin-bottom: 1rem; max-width: 48rem; }
.kpi.met { border-left-color: #2e7d32; } .kpi.open { border-left-color: #c62828; } .kpi.outside, .kpi.pending { border-left-color: #9e9e9e; }
dl { display: grid; grid-template-columns: 6rem 1fr; margin: 0.5rem 0; } dt { color: #555; }
svg .value { fill: none; stroke: #1565c0; stroke-width: 2; } svg circle { fill: #1565c0; }
svg .baseline { stroke: #555; stroke-dasharray: 4 3; } svg .target { fill: #2e7d32; opacity: 0.15; }
${MV_STYLE}
</style>
</head>
<body>
<h1>KPI report</h1>
<p>The last ${days} full days before ${escape(generatedAt.toISOString())}. A KPI's value is taken over the days the pipeline had a full day of data for; days before the store existed, or the part of the day it began, count for nothing. A verdict (on target or not yet) needs a week of full days, or the KPI's period where shorter. Each plot: daily values (blue), baseline (dashed), target band (green). Savings against a measured baseline: measured (blue) against the baseline model (orange, dashed), the baseline period as fitted, then the reporting period as predicted from its own weather and occupancy.</p>
${cards}
${recommendations ? recommendationsSection(recommendations) : ''}
</body>
</html>
`;
}
