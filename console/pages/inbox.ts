import type { DecisionResult } from '../../core/alerts/alert-service.ts';
import type { Alert, AlertStatus } from '../../core/alerts/lifecycle.ts';
import { api } from '../api.ts';
import { alertCharts, type SeriesAnswer } from '../charts.ts';
import { h } from '../dom.ts';
import { can, type Page, type PageContext } from '../page.ts';
import { alertCard, type CardContext } from './alert-card.ts';

const SEVERITY_RANK: Record<string, number> = { critical: 3, major: 2, warning: 1 };
const UNDO_MS = 10_000;
const VIEWS = {
  active: { label: 'Needs an answer', statuses: ['open', 'acknowledged'] },
  closed: { label: 'Answered', statuses: ['false-positive', 'confirmed', 'resolved'] },
} as const satisfies Record<string, { label: string; statuses: readonly AlertStatus[] }>;
type View = keyof typeof VIEWS;

function sorted(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) || a.openedAt - b.openedAt,
  );
}

/** Draws each alert's plot once its slot scrolls into view: a long inbox asks for none it does not show. */
function lazyPlots(): IntersectionObserver {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const slot = entry.target as HTMLElement;
      observer.unobserve(slot);
      const id = slot.dataset.alertId ?? '';
      api<SeriesAnswer>('GET', `/alerts/${encodeURIComponent(id)}/series`)
        .then((answer) => {
          slot.replaceChildren(alertCharts(answer));
          slot.dataset.state = 'drawn';
        })
        .catch((error: unknown) => {
          slot.replaceChildren(h('p', { className: 'error' }, `No plot: ${String(error)}`));
        });
    }
  });
  return observer;
}

/**
 * Sends a decision, then says so with an Undo for the undo window, and offers the maintenance
 * silence the answer suggests.
 */
async function sendDecision(
  ctx: PageContext,
  alert: Alert,
  decision: Record<string, unknown>,
  what: string,
  refresh: () => Promise<void>,
): Promise<void> {
  const decisions = `/alerts/${encodeURIComponent(alert.id)}/decisions`;
  const result = await api<DecisionResult>('POST', decisions, { decision });
  ctx.toast(`${alert.deviceId}: ${what}${result.rebaselined ? '; it calibrates a new baseline' : ''}`, {
    label: 'Undo',
    forMs: UNDO_MS,
    run: async () => {
      await api('POST', decisions, { decision: { action: 'undo' } });
      ctx.toast(`${alert.deviceId}: undone`);
      await refresh();
    },
  });
  const suggestion = result.suggestedSilence;
  if (suggestion && can(ctx.session, 'silence')) {
    const now = Date.now();
    ctx.toast(`Silence ${alert.deviceId} for ${suggestion.hours} h while the work goes on?`, {
      label: `Silence ${suggestion.hours} h`,
      forMs: 30_000,
      run: async () => {
        await api('POST', '/silences', {
          useCase: alert.useCase,
          scope: suggestion.scope,
          kind: 'maintenance',
          from: now,
          to: now + suggestion.hours * 3600_000,
          reason: suggestion.reason,
        });
        ctx.toast(`${alert.deviceId} silenced for ${suggestion.hours} h`);
      },
    });
  }
  await refresh();
}

/** The cards shown, kept in place (and their plots) while nothing about them changed. */
class CardList {
  readonly element = h('div', { className: 'alert-list', attrs: { 'aria-live': 'polite' } });
  private readonly cards = new Map<string, { key: string; element: HTMLElement }>();

  constructor(private readonly card: (alert: Alert) => HTMLElement) {}

  clear(): void {
    for (const { element } of this.cards.values()) element.remove();
    this.cards.clear();
  }

  show(shown: readonly Alert[]): void {
    const keep = new Set(shown.map((a) => a.id));
    for (const [id, { element: old }] of this.cards) {
      if (keep.has(id)) continue;
      old.remove();
      this.cards.delete(id);
    }
    shown.forEach((alert, index) => {
      const key = `${alert.status}:${alert.history.length}:${alert.severity}:${alert.clearedAt ?? ''}`;
      let entry = this.cards.get(alert.id);
      // An open sheet is left alone: someone is answering on it.
      if (entry && entry.key !== key && entry.element.querySelector('.sheet:not([hidden])') === null) {
        const fresh = this.card(alert);
        entry.element.replaceWith(fresh);
        entry = { key, element: fresh };
        this.cards.set(alert.id, entry);
      }
      if (!entry) {
        entry = { key, element: this.card(alert) };
        this.cards.set(alert.id, entry);
      }
      if (this.element.children[index] !== entry.element)
        this.element.insertBefore(entry.element, this.element.children[index] ?? null);
    });
  }
}

/** The inbox's two views as tabs; choosing one calls `onChoose`. */
function viewTabs(initial: View, onChoose: (view: View) => void): HTMLElement {
  const tabs = h(
    'div',
    { className: 'tabs', attrs: { role: 'tablist' } },
    ...Object.entries(VIEWS).map(([id, v]) =>
      h(
        'button',
        {
          className: 'tab',
          attrs: { role: 'tab', 'aria-selected': String(id === initial), 'data-view': id },
          onClick: () => {
            for (const tab of tabs.querySelectorAll('button'))
              tab.setAttribute('aria-selected', String(tab.dataset.view === id));
            onChoose(id as View);
          },
        },
        v.label,
      ),
    ),
  );
  return tabs;
}

/** The alert inbox: what needs an answer, worst and oldest first, each answered with one tap. */
export function inboxPage(ctx: PageContext, useCase: string | undefined): Page {
  let view: View = 'active';
  const empty = h('p', { className: 'empty' });
  const lazyCharts = lazyPlots();
  const cardContext: CardContext = {
    decide: (alert, decision, what) => sendDecision(ctx, alert, decision, what, () => page.refresh()),
    observePlot: (slot) => {
      lazyCharts.observe(slot);
    },
    falsePositiveReasons: ctx.falsePositiveReasons,
    answerable: can(ctx.session, 'answer-alerts'),
    error: ctx.error,
  };
  const list = new CardList((alert) => alertCard(alert, cardContext));
  const tabs = viewTabs(view, (chosen) => {
    view = chosen;
    list.clear();
    void page.refresh().catch(ctx.error);
  });
  const page: Page = {
    title: 'Alerts',
    refreshMs: 3000,
    element: h('section', { className: 'page' }, h('h1', {}, 'Alerts'), tabs, empty, list.element),
    async refresh() {
      const statuses = VIEWS[view].statuses.join(',');
      const scope = useCase ? `&use-case=${encodeURIComponent(useCase)}` : '';
      const { alerts } = await api<{ alerts: Alert[] }>(
        'GET',
        `/alerts?status=${statuses}${scope}&limit=200`,
      );
      const shown = sorted(alerts);
      if (view === 'active') ctx.openAlerts(alerts.length);
      empty.textContent =
        shown.length > 0 ? '' : view === 'active' ? 'Nothing needs an answer.' : 'No answered alerts yet.';
      list.show(shown);
    },
  };
  return page;
}
