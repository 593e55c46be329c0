import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { FeedbackRecord, Silence } from '../../core/alerts/ports.ts';
import type { Finding } from '../../core/drift/ports.ts';
import type { DeviceSummary, FleetDevice } from '../../core/operators/views.ts';
import { ago, clock, h, label } from '../dom.ts';

/* The sections of a device's page, each from the device answer of the operators' API. */

export interface DeviceAnswer {
  readonly findings: Finding[];
  readonly device: FleetDevice;
  readonly baseline: DeviceSummary | null;
  readonly alerts: Alert[];
  readonly feedback: FeedbackRecord[];
  readonly silences: Silence[];
}

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

/** The device at a glance: where, whether online, its backlog, scoring, baseline and model. */
export function deviceFacts(answer: DeviceAnswer, now: number): HTMLElement[] {
  const d = answer.device;
  return [
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
  );
}

export function alertsTable(alerts: readonly Alert[]): HTMLElement {
  return table(
    ['Opened', 'Severity', 'Status', 'Verdict', 'By'],
    alerts.map((a) => {
      const last = a.history.at(-1);
      return [
        clock(a.openedAt),
        a.severity,
        label(a.status),
        a.verdict
          ? a.verdict.kind === 'false-positive'
            ? `false positive: ${a.verdict.reason}`
            : `confirmed: ${a.verdict.failureMode}`
          : '–',
        last ? `${last.actor.name} (${last.actor.role})` : '',
      ];
    }),
    'No alerts yet.',
  );
}

export function findingsTable(findings: readonly Finding[]): HTMLElement {
  return table(
    ['When', 'Check', 'Sensor', 'Finding', 'Next step'],
    findings.map((f) => [clock(f.at), label(f.check), f.sensor ?? '–', f.summary, f.action]),
    'The drift checks found nothing.',
  );
}

export function feedbackTable(feedback: readonly FeedbackRecord[]): HTMLElement {
  return table(
    ['When', 'Label', 'Why', 'Readings', 'By'],
    feedback
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
  );
}

export function silencesTable(silences: readonly Silence[]): HTMLElement {
  return table(
    ['Kind', 'From', 'To', 'Reason', 'By'],
    silences.map((s) => [
      s.kind,
      clock(s.from),
      clock(s.to),
      s.reason,
      `${s.createdBy.name} (${s.createdBy.role})`,
    ]),
    'None in force or planned.',
  );
}
