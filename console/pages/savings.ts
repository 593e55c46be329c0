import type { Opportunity } from '../../core/kpi/mv/opportunities.ts';
import { figure, mvBaseline, mvSummary } from '../../core/kpi/wording.ts';
import type { UseCaseSavings } from '../../core/operators/savings-view.ts';
import { api } from '../api.ts';
import { h, label } from '../dom.ts';
import { can, type PageContext } from '../page.ts';

/** How long measured savings are shown before they are asked for again: each answer fits baselines on weeks of data. */
const SAVINGS_REFRESH_MS = 10 * 60_000;

/**
 * "What did it save?": each KPI with a baseline, measured against it (M&V) with its uncertainty,
 * and the supervisory recommendations the data supports, each with its estimate and, for a
 * reliability engineer, a button to accept it (recorded on the audit trail).
 */
export function savingsSection(
  ctx: PageContext,
  useCase: string,
): { element: HTMLElement; update(): Promise<void> } {
  const element = h(
    'section',
    { className: 'savings' },
    h('p', { className: 'muted' }, 'Measuring savings against the baselines…'),
  );
  let askedAt = 0;
  let savings: UseCaseSavings | undefined;
  const accepted = new Set<string>();
  const draw = () => {
    if (!savings) return;
    const current = savings;
    element.replaceChildren(
      h('h2', {}, 'Measured savings'),
      ...(current.kpis.length === 0
        ? [
            h(
              'p',
              { className: 'muted' },
              'No KPI of this use case has a baseline to measure savings against.',
            ),
          ]
        : current.kpis.map(mvCard)),
      ...(current.recommendations.length === 0 && current.currency === null
        ? []
        : [
            h('h2', {}, 'Recommendations'),
            current.recommendations.length === 0
              ? h('p', { className: 'muted' }, 'The last two weeks of data support no recommendation.')
              : h(
                  'ul',
                  { className: 'recommendations' },
                  ...current.recommendations.map((r) =>
                    recommendationItem(ctx, useCase, r, current.currency ?? '', accepted, draw),
                  ),
                ),
          ]),
    );
  };
  return {
    element,
    async update() {
      if (Date.now() - askedAt < SAVINGS_REFRESH_MS) return;
      askedAt = Date.now();
      try {
        savings = await api<UseCaseSavings>('GET', `/use-cases/${encodeURIComponent(useCase)}/savings`);
      } catch (error) {
        askedAt = 0; // asked again at the page's next refresh
        throw error;
      }
      draw();
    },
  };
}

function mvCard(kpi: UseCaseSavings['kpis'][number]): HTMLElement {
  return h(
    'article',
    { className: 'card mv', attrs: { 'data-kpi': kpi.id, 'data-status': kpi.mv.status } },
    h('h3', {}, label(kpi.id)),
    h('p', {}, h('strong', {}, mvSummary(kpi.mv))),
    h('p', { className: 'muted' }, `Baseline ${mvBaseline(kpi.mv)}`),
  );
}

function recommendationItem(
  ctx: PageContext,
  useCase: string,
  r: Opportunity,
  currency: string,
  accepted: Set<string>,
  redraw: () => void,
): HTMLElement {
  const estimate = `about ${figure(r.kwhPerYear)} kWh (${figure(r.costPerYear)} ${currency}) a year, against the fleet's median unit`;
  const item = h(
    'li',
    { className: 'card', attrs: { 'data-recommendation': r.id } },
    h('h3', {}, `${r.deviceId}: ${r.recommendation}`),
    h('p', {}, r.finding),
    h('p', { className: 'muted' }, estimate),
  );
  if (accepted.has(r.id)) {
    item.append(h('p', { className: 'accepted' }, 'Accepted: recorded on the audit trail'));
  } else if (can(ctx.session, 'accept-recommendations')) {
    const button = h('button', { className: 'big primary', attrs: { type: 'button' } }, 'Accept');
    button.addEventListener('click', () => {
      button.setAttribute('disabled', '');
      api('POST', '/recommendations', { useCase, id: r.id })
        .then(() => {
          accepted.add(r.id);
          ctx.toast(`Accepted for ${r.deviceId}: once applied, the KPI's baseline measures what it saves`);
          redraw();
        })
        .catch((error: unknown) => {
          button.removeAttribute('disabled');
          ctx.error(error);
        });
    });
    item.append(button);
  }
  return item;
}
