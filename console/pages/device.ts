import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { FeedbackRecord, Silence } from '../../core/alerts/ports.ts';
import type { Finding } from '../../core/drift/ports.ts';
import type { DeviceSummary, FleetDevice } from '../../core/operators/views.ts';
import { api } from '../api.ts';
import { deviceCharts, type SeriesAnswer } from '../charts.ts';
import { ago, clock, h, label } from '../dom.ts';
import { can, type Page, type PageContext } from '../page.ts';

interface DeviceAnswer {
  readonly findings: Finding[];
  readonly device: FleetDevice;
  readonly baseline: DeviceSummary | null;
  readonly alerts: Alert[];
  readonly feedback: FeedbackRecord[];
  readonly silences: Silence[];
}

const RANGES = [15, 60, 360, 1440] as const;
const CHART_REFRESH_MS = 30_000;

function table(
  columns: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
  empty: string,
): HTMLElement {
  if (rows.length === 0) return h('p', { className: 'muted' }, empty);
  return h(
    'table',
    { className: 'list' },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h('tr', {}, ...row.map((cell, i) => h('td', { attrs: { 'data-label': columns[i] ?? '' } }, cell))),
      ),
    ),
  );
}

/** One device: its readings against its baseline, its alerts and verdicts, and what engineers may change. */
export function devicePage(ctx: PageContext, useCase: string, deviceId: string): Page {
  const path = `/devices/${encodeURIComponent(useCase)}/${encodeURIComponent(deviceId)}`;
  let minutes: number = 60;
  let chartsAt = 0;
  const facts = h('div', { className: 'facts-grid' });
  const charts = h(
    'div',
    { className: 'device-charts' },
    h('p', { className: 'muted' }, 'Loading readings…'),
  );
  const history = h('div');
  const health = h('div');
  const feedback = h('div');
  const silences = h('div');
  const rangeButtons = h(
    'div',
    { className: 'tabs', attrs: { role: 'group', 'aria-label': 'Time range' } },
    ...RANGES.map((m) =>
      h(
        'button',
        {
          className: 'tab',
          attrs: { 'aria-pressed': String(m === minutes), 'data-minutes': String(m) },
          onClick: () => {
            minutes = m;
            for (const b of rangeButtons.querySelectorAll('button'))
              b.setAttribute('aria-pressed', String(b.dataset.minutes === String(m)));
            chartsAt = 0;
            void page.refresh().catch(ctx.error);
          },
        },
        m < 60 ? `${m} min` : `${m / 60} h`,
      ),
    ),
  );
  const engineer = h('div', { className: 'engineer' });
  if (can(ctx.session, 'rebaseline')) engineer.append(rebaselineForm());
  if (can(ctx.session, 'silence')) engineer.append(silenceForm());
  const element = h(
    'section',
    { className: 'page' },
    h('p', { className: 'crumbs' }, h('a', { attrs: { href: '#/fleet' } }, 'Fleet'), ` › ${useCase}`),
    h('h1', {}, deviceId),
    facts,
    h('h2', {}, 'Readings'),
    rangeButtons,
    charts,
    h('h2', {}, 'Sensor health and drift (7 days)'),
    health,
    h('h2', {}, 'Alerts and verdicts'),
    history,
    h('h2', {}, 'What operators taught the model'),
    feedback,
    h('h2', {}, 'Silences and maintenance windows'),
    silences,
    engineer,
  );

  function rebaselineForm(): HTMLElement {
    const note = h('input', {
      className: 'field',
      attrs: {
        type: 'text',
        required: '',
        maxlength: '2000',
        placeholder: 'Why: a repair, a new duty point…',
        'aria-label': 'Why re-baseline',
      },
    });
    const form = h(
      'form',
      { className: 'card' },
      h('h2', {}, 'Re-baseline'),
      h(
        'p',
        { className: 'muted' },
        'The device learns its normal again from its next readings and raises no alerts meanwhile.',
      ),
      note,
      h('button', { className: 'big primary', attrs: { type: 'submit' } }, 'Re-baseline from now'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      api('POST', `${path}/rebaseline`, { note: note.value.trim() })
        .then(() => {
          note.value = '';
          ctx.toast(`${deviceId} calibrates a new baseline from its next readings`);
          return page.refresh();
        })
        .catch(ctx.error);
    });
    return form;
  }

  function silenceForm(): HTMLElement {
    const hours = h(
      'select',
      { className: 'field', attrs: { 'aria-label': 'For how long' } },
      ...[1, 4, 8, 24].map((n) => h('option', { attrs: { value: String(n) } }, `${n} h`)),
    );
    const kind = h(
      'select',
      { className: 'field', attrs: { 'aria-label': 'Kind' } },
      h('option', { attrs: { value: 'silence' } }, 'Silence'),
      h('option', { attrs: { value: 'maintenance' } }, 'Maintenance (re-baselines after)'),
    );
    const reason = h('input', {
      className: 'field',
      attrs: {
        type: 'text',
        required: '',
        maxlength: '2000',
        placeholder: 'Reason',
        'aria-label': 'Reason for the silence',
      },
    });
    const form = h(
      'form',
      { className: 'card' },
      h('h2', {}, 'Silence this device'),
      kind,
      hours,
      reason,
      h('button', { className: 'big primary', attrs: { type: 'submit' } }, 'Silence'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const from = Date.now();
      api('POST', '/silences', {
        useCase,
        scope: { kind: 'device', deviceId },
        kind: kind.value,
        from,
        to: from + Number(hours.value) * 3600_000,
        reason: reason.value.trim(),
      })
        .then(() => {
          reason.value = '';
          ctx.toast(`${deviceId} silenced for ${hours.value} h`);
          return page.refresh();
        })
        .catch(ctx.error);
    });
    return form;
  }

  const page: Page = {
    title: deviceId,
    refreshMs: 15_000,
    element,
    async refresh() {
      const answer = await api<DeviceAnswer>('GET', path);
      const d = answer.device;
      const now = Date.now();
      facts.replaceChildren(
        ...[
          ['Site / line', d.group],
          ['Online', d.online ? '● online' : '○ offline'],
          ['Last seen', ago(d.lastSeenAt, now)],
          ['Buffered on device', d.backlog === null ? 'no health report' : String(d.backlog)],
          [
            'Scoring',
            d.state === 'calibrating' && d.calibration
              ? `calibrating ${d.calibration.collected}/${d.calibration.needed}`
              : d.state,
          ],
          [
            'Baseline',
            answer.baseline?.baselineVersion
              ? `v${answer.baseline.baselineVersion} (${answer.baseline.baselineReason ?? ''})`
              : 'none yet',
          ],
          ['Model', d.modelVersion ?? '–'],
          ['Open alerts', String(d.openAlerts)],
        ].map(([name, value]) =>
          h(
            'div',
            { className: 'fact' },
            h('span', { className: 'muted' }, name ?? ''),
            h('strong', {}, value ?? ''),
          ),
        ),
      );
      history.replaceChildren(
        table(
          ['Opened', 'Severity', 'Status', 'Verdict', 'By'],
          answer.alerts.map((a) => [
            clock(a.openedAt),
            a.severity,
            label(a.status),
            a.verdict
              ? a.verdict.kind === 'false-positive'
                ? `false positive: ${a.verdict.reason}`
                : `confirmed: ${a.verdict.failureMode}`
              : '–',
            (() => {
              const last = a.history.at(-1);
              return last ? `${last.actor.name} (${last.actor.role})` : '';
            })(),
          ]),
          'No alerts yet.',
        ),
      );
      health.replaceChildren(
        table(
          ['When', 'Check', 'Sensor', 'Finding', 'Next step'],
          answer.findings.map((f) => [clock(f.at), label(f.check), f.sensor ?? '–', f.summary, f.action]),
          'The drift checks found nothing.',
        ),
      );
      feedback.replaceChildren(
        table(
          ['When', 'Label', 'Why', 'Readings', 'By'],
          answer.feedback
            .slice()
            .reverse()
            .map((f) => [
              clock(f.at),
              label(f.label),
              f.workOrder ? `${f.detail} (${f.workOrder})` : f.detail,
              `${clock(f.from)} to ${clock(f.to)}`,
              `${f.actor.name} (${f.actor.role})`,
            ]),
          'No feedback yet.',
        ),
      );
      silences.replaceChildren(
        table(
          ['Kind', 'From', 'To', 'Reason', 'By'],
          answer.silences.map((s) => [
            s.kind,
            clock(s.from),
            clock(s.to),
            s.reason,
            `${s.createdBy.name} (${s.createdBy.role})`,
          ]),
          'None in force or planned.',
        ),
      );
      if (now - chartsAt >= CHART_REFRESH_MS) {
        chartsAt = now;
        const series = await api<SeriesAnswer>('GET', `${path}/series?minutes=${minutes}`);
        charts.replaceChildren(
          series.series.times.length === 0
            ? h('p', { className: 'muted' }, 'No readings in this range.')
            : deviceCharts(series),
        );
      }
    },
  };
  return page;
}
