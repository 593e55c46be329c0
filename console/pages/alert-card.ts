import type { Alert } from '../../core/alerts/lifecycle.ts';
import { topContributors } from '../../core/alerts/contributors.ts';
import { ago, duration, h, label } from '../dom.ts';

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

/** What a card needs of its page. */
export interface CardContext {
  /** Sends a decision on the alert; `what` says it in the toast. */
  readonly decide: (alert: Alert, decision: Record<string, unknown>, what: string) => Promise<void>;
  /** Draws the alert's plot into the slot once it is in view. */
  readonly observePlot: (slot: HTMLElement) => void;
  readonly falsePositiveReasons: readonly string[];
  /** Whether the person may answer alerts (an analyst reads them only). */
  readonly answerable: boolean;
  readonly error: (error: unknown) => void;
}

/**
 * The sheet under a card's buttons (reasons for a false positive, the confirmation form): it opens
 * in view with its first choice focused, and Escape closes it and gives the focus back.
 */
class Sheet {
  readonly element = h('div', { className: 'sheet', attrs: { hidden: '' } });
  private opener: HTMLElement | null = null;

  constructor() {
    this.element.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      this.close();
      this.opener?.focus();
    });
  }

  // On a phone a focused text field would pop up the keyboard over the choices, and a sheet
  // below the fold is not seen: the first choice gets the focus, and the sheet is scrolled to.
  open(content: HTMLElement, focus: string): void {
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.element.replaceChildren(content);
    this.element.hidden = false;
    this.element.querySelector<HTMLElement>(focus)?.focus({ preventScroll: true });
    this.element.scrollIntoView({ block: 'nearest' });
  }

  close(): void {
    this.element.hidden = true;
  }
}

type Busy = (run: () => Promise<void>) => () => void;

/** False positive: one tap on a reason; the optional note comes after the reasons. */
function reasonsSheet(alert: Alert, ctx: CardContext, sheet: Sheet, busy: Busy): HTMLElement {
  const note = h('input', {
    className: 'field',
    attrs: { type: 'text', maxlength: '2000', placeholder: 'Note (optional)', 'aria-label': 'Note' },
  });
  return h(
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
            ctx.decide(
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
    note,
    h(
      'button',
      {
        className: 'big secondary',
        onClick: () => {
          sheet.close();
        },
      },
      'Cancel',
    ),
  );
}

/** Confirm a fault: what fails (required, with common answers offered) and the work order. */
function confirmSheet(alert: Alert, ctx: CardContext, sheet: Sheet, busy: Busy): HTMLElement {
  const field = (attrs: Record<string, string>) =>
    h('input', { className: 'field', attrs: { type: 'text', ...attrs } });
  const failureMode = field({
    required: '',
    maxlength: '200',
    list: 'failure-modes',
    placeholder: 'Failure mode, e.g. bearing wear',
    'aria-label': 'Failure mode',
  });
  const workOrder = field({
    maxlength: '100',
    placeholder: 'Work order (optional)',
    'aria-label': 'Work order',
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
      {
        className: 'big secondary',
        attrs: { type: 'button' },
        onClick: () => {
          sheet.close();
        },
      },
      'Cancel',
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const mode = failureMode.value.trim();
    const order = workOrder.value.trim();
    busy(() =>
      ctx.decide(
        alert,
        { action: 'confirm', failureMode: mode, ...(order ? { workOrder: order } : {}) },
        `confirmed (${mode})`,
      ),
    )();
  });
  return form;
}

/** The card's head: severity, device, group and status. */
function cardHeader(alert: Alert): HTMLElement {
  return h(
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
  );
}

/** When, how long, how strong, and which sensors are most behind it. */
function cardFacts(alert: Alert, now: number): HTMLElement[] {
  const ratio = alert.threshold > 0 ? alert.peakScore / alert.threshold : 0;
  const lasting = (alert.clearedAt ?? now) - alert.firstAnomalyAt;
  return [
    h(
      'p',
      { className: 'facts' },
      `Opened ${ago(alert.openedAt, now)} · ${alert.clearedAt ? 'lasted' : 'going on for'} ${duration(lasting)} · score ${ratio.toFixed(1)}× threshold (${alert.peakScore.toFixed(1)} / ${alert.threshold.toFixed(1)})`,
    ),
    h(
      'p',
      { className: 'contributors' },
      'Most behind it: ',
      ...topContributors(alert).flatMap((c, i) => [
        i > 0 ? ', ' : '',
        h('strong', {}, c.sensor),
        ` ${Math.round(c.share * 100)}%`,
      ]),
    ),
  ];
}

function verdictLine(alert: Alert): HTMLElement | null {
  if (!alert.verdict) return null;
  const last = alert.history.at(-1);
  return h(
    'p',
    { className: 'verdict' },
    alert.verdict.kind === 'false-positive'
      ? `False positive: ${label(alert.verdict.reason)}`
      : `Confirmed: ${alert.verdict.failureMode}${alert.verdict.workOrder ? ` (${alert.verdict.workOrder})` : ''}`,
    ` by ${last?.actor.name ?? '?'} (${last?.actor.role ?? '?'})`,
  );
}

/** One alert as a card: what it is, its plot, and the answers the person may give. */
export function alertCard(alert: Alert, ctx: CardContext): HTMLElement {
  const sheet = new Sheet();
  const article = h('article', {
    className: `alert severity-${alert.severity}`,
    attrs: {
      'data-alert-id': alert.id,
      'data-status': alert.status,
      'aria-label': `${alert.severity} alert on ${alert.deviceId}`,
    },
  });
  // One tap at a time: the card's buttons wait for the answer, and come back if it failed.
  const busy: Busy = (run) => () => {
    for (const button of article.querySelectorAll('button')) button.disabled = true;
    run().catch((error: unknown) => {
      ctx.error(error);
      for (const button of article.querySelectorAll('button')) button.disabled = false;
    });
  };
  const slot = h(
    'div',
    { className: 'plot-slot', attrs: { 'data-alert-id': alert.id } },
    h('p', { className: 'muted' }, 'Loading the plot…'),
  );
  ctx.observePlot(slot);
  const active = alert.status === 'open' || alert.status === 'acknowledged';
  const button = (text: string, onClick: () => void, popup = false) =>
    h('button', { className: 'big', attrs: popup ? { 'aria-haspopup': 'true' } : {}, onClick }, text);
  const actions =
    ctx.answerable && active
      ? h(
          'div',
          { className: 'actions' },
          alert.status === 'open'
            ? button(
                'Acknowledge',
                busy(() => ctx.decide(alert, { action: 'acknowledge' }, 'acknowledged')),
              )
            : null,
          button(
            'False positive',
            () => {
              sheet.open(reasonsSheet(alert, ctx, sheet, busy), 'button.reason');
            },
            true,
          ),
          button(
            'Confirm fault',
            () => {
              sheet.open(confirmSheet(alert, ctx, sheet, busy), 'input');
            },
            true,
          ),
        )
      : null;
  article.append(
    ...[
      cardHeader(alert),
      ...cardFacts(alert, Date.now()),
      verdictLine(alert),
      slot,
      actions,
      sheet.element,
    ].filter((child): child is HTMLElement => child !== null),
  );
  return article;
}
