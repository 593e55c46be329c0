import { statusText, withUnit } from '../../core/kpi/wording.ts';
import type { UseCaseSummary } from '../../core/operators/views.ts';
import { api } from '../api.ts';
import { loadChart } from '../charts.ts';
import { h, label, number } from '../dom.ts';
import type { Page, PageContext } from '../page.ts';
import { alarmLoadSection } from './alarm-load.ts';
import { modelVersionsSection } from './model-versions.ts';
import { savingsSection } from './savings.ts';

/**
 * What the use case promised (its KPIs), what its alerts cost operators and how far they trust
 * them, and what it measurably saved.
 */
export function useCasePage(ctx: PageContext, useCase: string): Page {
  const body = h('div');
  const savings = savingsSection(ctx, useCase);
  const element = h('section', { className: 'page' }, body);
  let drawn = '';
  const page: Page = {
    title: useCase,
    refreshMs: 60_000,
    element,
    async refresh() {
      // The savings come in their own request: fitting baselines must not hold up the figures above.
      void savings.update().catch(ctx.error);
      const s = await api<UseCaseSummary>('GET', `/use-cases/${encodeURIComponent(useCase)}?days=14`);
      // Redrawn only when a figure changed, so the chart does not flicker every few seconds.
      const key = JSON.stringify(s);
      if (key === drawn) return;
      drawn = key;
      const share = s.verdicts.falsePositiveShare;
      body.replaceChildren(
        h('h1', {}, s.name),
        h('p', {}, s.description),
        h(
          'div',
          { className: 'figures' },
          h(
            'div',
            { className: 'figure-card trust' },
            h('span', { className: 'muted' }, 'Alerts closed as false positives'),
            h('strong', { className: 'big-number' }, share === null ? '–' : `${Math.round(share * 100)}%`),
            h(
              'span',
              {},
              `${s.verdicts.falsePositives} false, ${s.verdicts.confirmed} confirmed in ${s.days} days`,
            ),
          ),
          h(
            'div',
            { className: 'figure-card' },
            h('span', { className: 'muted' }, 'Open alerts'),
            h('strong', { className: 'big-number' }, String(s.openAlerts)),
            h('span', {}, `${s.devices} ${s.devices === 1 ? 'device' : 'devices'}`),
          ),
        ),
        h(
          'p',
          {},
          Object.keys(s.verdicts.byReason).length > 0
            ? `False positives by reason: ${Object.entries(s.verdicts.byReason)
                .map(([r, n]) => `${label(r)} ${n}`)
                .join(', ')}`
            : 'No false positives in this window.',
        ),
        loadChart(s.alertLoad),
        alarmLoadSection(s.alarmLoad, useCase),
        h('h2', {}, 'KPIs'),
        h('div', { className: 'kpis' }, ...s.kpis.map(kpiCard)),
        savings.element,
        ...[modelVersionsSection(s.models)].filter((section) => section !== null),
      );
    },
  };
  return page;
}

type Kpi = UseCaseSummary['kpis'][number];

/** Where a KPI stands now, in words: its value over the full days, or why there is none. */
function standingLine(k: Kpi): HTMLElement {
  const standing = k.standing;
  if (!standing) return h('p', { className: 'kpi-now muted' }, 'Measured outside the pipeline');
  const css = { 'on target': 'met', 'not yet': 'open', 'too little data': 'pending' }[standing.status];
  const value =
    standing.current === null
      ? 'No full day of data yet'
      : `Now ${withUnit(number(standing.current), k.baseline.unit, k.period)}${standing.change === null ? '' : ` (${standing.change > 0 ? '+' : ''}${standing.change}%)`}, over ${standing.fullDays} full ${standing.fullDays === 1 ? 'day' : 'days'}`;
  return h(
    'p',
    { className: `kpi-now ${css}`, attrs: { 'data-status': standing.status } },
    h('strong', {}, value),
    h('span', { className: 'kpi-status' }, statusText(standing)),
  );
}

function kpiCard(k: Kpi): HTMLElement {
  return h(
    'article',
    { className: 'card kpi', attrs: { 'data-kpi': k.id } },
    h('h3', {}, label(k.id)),
    h('p', {}, k.description),
    standingLine(k),
    h(
      'p',
      { className: 'kpi-target' },
      h('span', {}, `baseline ${withUnit(number(k.baseline.value), k.baseline.unit, k.period)}`),
      ' → ',
      h(
        'strong',
        {},
        `target ${k.target}: ${k.targetValue.low === k.targetValue.high ? number(k.targetValue.low) : `${number(k.targetValue.low)} to ${number(k.targetValue.high)}`}`,
      ),
    ),
    h('p', { className: 'muted' }, `Measured by: ${k.measuredBy}`),
    h('p', { className: 'muted' }, `Served by: ${k.servedBy.join(', ')}`),
  );
}
