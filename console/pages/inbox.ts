import type { DecisionResult } from '../../core/alerts/alert-service.ts';
import type { Alert, AlertStatus } from '../../core/alerts/lifecycle.ts';
import { topContributors } from '../../core/alerts/contributors.ts';
import { api } from '../api.ts';
import { alertCharts, type SeriesAnswer } from '../charts.ts';
import { ago, duration, h, label } from '../dom.ts';
import { can, type Page, type PageContext } from '../page.ts';

const SEVERITY_RANK: Record<string, number> = { critical: 3, major: 2, warning: 1 };
const UNDO_MS = 10_000;
const VIEWS = {
  active: { label: 'Needs an answer', statuses: ['open', 'acknowledged'] },
  closed: { label: 'Answered', statuses: ['false-positive', 'confirmed', 'resolved'] },
} as const satisfies Record<string, { label: string; statuses: readonly AlertStatus[] }>;
type View = keyof typeof VIEWS;

const REASON_HINTS: Record<string, string> = {
  'sensor-fault': 'the sensor or its wiring is wrong',
  'new-normal': 'it runs like this now: learn a new baseline',
  'normal-operation': 'nothing is wrong: teach the model',
  maintenance: 'work is going on',
  other: 'none of these',
};
const FAILURE_MODES = [
  'bearing wear',
  'cavitation',
  'impeller imbalance',
  'blocked inlet',
  'seal leak',
  'misalignment',
];

function sorted(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) => (SEVERITY_RANK[b.severity] ?? 0) - (SEVERITY_RANK[a.severity] ?? 0) || a.openedAt - b.openedAt,
  );
}

/** The alert inbox: what needs an answer, worst and oldest first, each answered with one tap. */
export function inboxPage(ctx: PageContext, useCase: string | undefined): Page {
  let view: View = 'active';
  const cards = new Map<string, { key: string; element: HTMLElement }>();
  const list = h('div', { className: 'alert-list', attrs: { 'aria-live': 'polite' } });
  const empty = h('p', { className: 'empty' });
  const tabs = h(
    'div',
    { className: 'tabs', attrs: { role: 'tablist' } },
    ...Object.entries(VIEWS).map(([id, v]) =>
      h(
        'button',
        {
          className: 'tab',
          attrs: { role: 'tab', 'aria-selected': String(id === view), 'data-view': id },
          onClick: () => {
            view = id as View;
            for (const tab of tabs.querySelectorAll('button'))
              tab.setAttribute('aria-selected', String(tab.dataset.view === view));
            for (const { element } of cards.values()) element.remove();
            cards.clear();
            void page.refresh().catch(ctx.error);
          },
        },
        v.label,
      ),
    ),
  );
  const element = h('section', { className: 'page' }, h('h1', {}, 'Alerts'), tabs, empty, list);

  const lazyCharts = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const slot = entry.target as HTMLElement;
      lazyCharts.unobserve(slot);
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

  async function decide(alert: Alert, decision: Record<string, unknown>, what: string): Promise<void> {
    const result = await api<DecisionResult>('POST', `/alerts/${encodeURIComponent(alert.id)}/decisions`, {
      decision,
    });
    ctx.toast(`${alert.deviceId}: ${what}${result.rebaselined ? '; it calibrates a new baseline' : ''}`, {
      label: 'Undo',
      forMs: UNDO_MS,
      run: async () => {
        await api('POST', `/alerts/${encodeURIComponent(alert.id)}/decisions`, {
          decision: { action: 'undo' },
        });
        ctx.toast(`${alert.deviceId}: undone`);
        await page.refresh();
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
    await page.refresh();
  }

  function card(alert: Alert): HTMLElement {
    const now = Date.now();
    const top = topContributors(alert);
    const ratio = alert.threshold > 0 ? alert.peakScore / alert.threshold : 0;
    const lasting = (alert.clearedAt ?? now) - alert.firstAnomalyAt;
    const sheet = h('div', { className: 'sheet', attrs: { hidden: '' } });
    // One tap at a time: the card's buttons wait for the answer, and come back if it failed.
    const busy = (run: () => Promise<void>) => () => {
      for (const button of article.querySelectorAll('button')) button.disabled = true;
      run().catch((error: unknown) => {
        ctx.error(error);
        for (const button of article.querySelectorAll('button')) button.disabled = false;
      });
    };
    // Escape closes a sheet and gives the focus back to the button that opened it.
    let opener: HTMLElement | null = null;
    // The sheet opens in view with its first choice focused: on a phone a focused text field
    // would pop up the keyboard over the choices, and a sheet below the fold is not seen.
    const openSheet = (content: HTMLElement, focus: string) => {
      opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      sheet.replaceChildren(content);
      sheet.hidden = false;
      sheet.querySelector<HTMLElement>(focus)?.focus({ preventScroll: true });
      sheet.scrollIntoView({ block: 'nearest' });
    };
    sheet.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      sheet.hidden = true;
      opener?.focus();
    });
    const note = h('input', {
      className: 'field',
      attrs: { type: 'text', maxlength: '2000', placeholder: 'Note (optional)', 'aria-label': 'Note' },
    });
    const falsePositive = () => {
      openSheet(
        h(
          'div',
          { className: 'reasons', attrs: { role: 'group', 'aria-label': 'Why is it a false positive?' } },
          h('p', { className: 'sheet-title' }, 'Why is it a false positive?'),
          ...ctx.falsePositiveReasons.map((reason) =>
            h(
              'button',
              {
                className: 'big reason',
                attrs: { 'data-reason': reason },
                onClick: busy(() =>
                  decide(
                    alert,
                    { action: 'false-positive', reason, note: note.value.trim() },
                    `false positive (${label(reason).toLowerCase()})`,
                  ),
                ),
              },
              h('strong', {}, label(reason)),
              h('span', {}, REASON_HINTS[reason] ?? ''),
            ),
          ),
          // Optional, after the reasons: a note is typed first, then the reason tapped.
          note,
          h('button', { className: 'big secondary', onClick: () => (sheet.hidden = true) }, 'Cancel'),
        ),
        'button.reason',
      );
    };
    const confirm = () => {
      const failureMode = h('input', {
        className: 'field',
        attrs: {
          type: 'text',
          required: '',
          maxlength: '200',
          list: 'failure-modes',
          placeholder: 'Failure mode, e.g. bearing wear',
          'aria-label': 'Failure mode',
        },
      });
      const workOrder = h('input', {
        className: 'field',
        attrs: {
          type: 'text',
          maxlength: '100',
          placeholder: 'Work order (optional)',
          'aria-label': 'Work order',
        },
      });
      const form = h(
        'form',
        { className: 'confirm' },
        h('p', { className: 'sheet-title' }, 'What is failing?'),
        failureMode,
        h(
          'datalist',
          { attrs: { id: 'failure-modes' } },
          ...FAILURE_MODES.map((m) => h('option', { attrs: { value: m } })),
        ),
        workOrder,
        h('button', { className: 'big primary', attrs: { type: 'submit' } }, 'Confirm fault'),
        h(
          'button',
          { className: 'big secondary', attrs: { type: 'button' }, onClick: () => (sheet.hidden = true) },
          'Cancel',
        ),
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        busy(() =>
          decide(
            alert,
            {
              action: 'confirm',
              failureMode: failureMode.value.trim(),
              ...(workOrder.value.trim() ? { workOrder: workOrder.value.trim() } : {}),
            },
            `confirmed (${failureMode.value.trim()})`,
          ),
        )();
      });
      openSheet(form, 'input');
    };
    const answerable = can(ctx.session, 'answer-alerts');
    const active = alert.status === 'open' || alert.status === 'acknowledged';
    const slot = h(
      'div',
      { className: 'plot-slot', attrs: { 'data-alert-id': alert.id } },
      h('p', { className: 'muted' }, 'Loading the plot…'),
    );
    lazyCharts.observe(slot);
    const article = h(
      'article',
      {
        className: `alert severity-${alert.severity}`,
        attrs: {
          'data-alert-id': alert.id,
          'data-status': alert.status,
          'aria-label': `${alert.severity} alert on ${alert.deviceId}`,
        },
      },
      h(
        'header',
        {},
        h('span', { className: `badge ${alert.severity}` }, alert.severity),
        h(
          'a',
          {
            className: 'device',
            attrs: {
              href: `#/devices/${encodeURIComponent(alert.useCase)}/${encodeURIComponent(alert.deviceId)}`,
            },
          },
          alert.deviceId,
        ),
        h('span', { className: 'group' }, alert.group),
        h('span', { className: `status status-${alert.status}` }, label(alert.status)),
      ),
      h(
        'p',
        { className: 'facts' },
        `Opened ${ago(alert.openedAt, now)} · ${alert.clearedAt ? 'lasted' : 'going on for'} ${duration(lasting)} · score ${ratio.toFixed(1)}× threshold (${alert.peakScore.toFixed(1)} / ${alert.threshold.toFixed(1)})`,
      ),
      h(
        'p',
        { className: 'contributors' },
        'Most behind it: ',
        ...top.flatMap((c, i) => [
          i > 0 ? ', ' : '',
          h('strong', {}, c.sensor),
          ` ${Math.round(c.share * 100)}%`,
        ]),
      ),
      alert.verdict
        ? h(
            'p',
            { className: 'verdict' },
            alert.verdict.kind === 'false-positive'
              ? `False positive: ${label(alert.verdict.reason)}`
              : `Confirmed: ${alert.verdict.failureMode}${alert.verdict.workOrder ? ` (${alert.verdict.workOrder})` : ''}`,
            ` by ${alert.history.at(-1)?.actor.name ?? '?'} (${alert.history.at(-1)?.actor.role ?? '?'})`,
          )
        : null,
      slot,
      answerable && active
        ? h(
            'div',
            { className: 'actions' },
            alert.status === 'open'
              ? h(
                  'button',
                  {
                    className: 'big',
                    onClick: busy(() => decide(alert, { action: 'acknowledge' }, 'acknowledged')),
                  },
                  'Acknowledge',
                )
              : null,
            h(
              'button',
              { className: 'big', attrs: { 'aria-haspopup': 'true' }, onClick: falsePositive },
              'False positive',
            ),
            h(
              'button',
              { className: 'big', attrs: { 'aria-haspopup': 'true' }, onClick: confirm },
              'Confirm fault',
            ),
          )
        : null,
      sheet,
    );
    return article;
  }

  const page: Page = {
    title: 'Alerts',
    refreshMs: 3000,
    element,
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
        shown.length === 0
          ? view === 'active'
            ? 'Nothing needs an answer.'
            : 'No answered alerts yet.'
          : '';
      const keep = new Set(shown.map((a) => a.id));
      for (const [id, { element: old }] of cards) {
        if (!keep.has(id)) {
          old.remove();
          cards.delete(id);
        }
      }
      // Cards keep their place and plot while nothing about them changed; an open sheet is left alone.
      shown.forEach((alert, index) => {
        const key = `${alert.status}:${alert.history.length}:${alert.severity}:${alert.clearedAt ?? ''}`;
        let entry = cards.get(alert.id);
        if (entry && entry.key !== key && entry.element.querySelector('.sheet:not([hidden])') === null) {
          const fresh = card(alert);
          entry.element.replaceWith(fresh);
          entry = { key, element: fresh };
          cards.set(alert.id, entry);
        }
        if (!entry) {
          entry = { key, element: card(alert) };
          cards.set(alert.id, entry);
        }
        if (list.children[index] !== entry.element)
          list.insertBefore(entry.element, list.children[index] ?? null);
      });
    },
  };
  return page;
}
