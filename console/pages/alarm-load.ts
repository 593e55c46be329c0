import type { AlarmLoad } from '../../core/operators/views.ts';
import { h } from '../dom.ts';

const statusWord = (met: boolean | null) => (met === null ? '' : met ? 'met' : 'over');

/** A table whose cells are labelled, so a phone shows each row as a card (styles/phone.css). */
function table(
  columns: readonly string[],
  rows: readonly (readonly (string | HTMLElement)[])[],
  attrs: Record<string, string> = {},
): HTMLElement {
  return h(
    'table',
    { className: 'list', attrs },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
    h(
      'tbody',
      {},
      ...rows.map((cells) =>
        h('tr', {}, ...cells.map((cell, i) => h('td', { attrs: { 'data-label': columns[i] ?? '' } }, cell))),
      ),
    ),
  );
}

/**
 * The last day's alarm load as plant managers read it (ISA-18.2 / EEMUA 191): the figures against
 * their targets for one operator position, then the sources that make most of it; the same
 * figures as `aiot alerts report` (core/alerts/alarm-measures.ts).
 */
export function alarmLoadSection(load: AlarmLoad, useCase: string): HTMLElement {
  const measures = table(
    ['Measure', 'Value', 'ISA-18.2 target', 'Status'],
    load.measures.map((m) => [
      m.measure,
      h('strong', {}, m.value),
      m.target,
      h(
        'span',
        { className: `alarm-status ${statusWord(m.met)}`, attrs: { 'data-met': String(m.met) } },
        statusWord(m.met),
      ),
    ]),
    { 'data-table': 'alarm-measures' },
  );
  const actors =
    load.badActors.length === 0
      ? h('p', { className: 'muted' }, 'No alert reached an operator in this window.')
      : table(
          ['Device', 'Inference', 'Alerts', 'Share'],
          load.badActors.map((s) => [
            h(
              'a',
              {
                attrs: { href: `#/devices/${encodeURIComponent(useCase)}/${encodeURIComponent(s.deviceId)}` },
              },
              s.deviceId,
            ),
            s.inference,
            String(s.alerts),
            `${Math.round(s.share * 100)}%`,
          ]),
          { 'data-table': 'bad-actors' },
        );
  return h(
    'section',
    { className: 'alarm-load' },
    h('h2', {}, `Alarm load, last ${load.hours} hours`),
    h(
      'p',
      { className: 'muted' },
      'Per operator position, against ISA-18.2 (IEC 62682) and EEMUA 191; digest entries interrupt nobody and are counted apart.',
    ),
    measures,
    h('h3', {}, 'Bad actors: the sources making most of the load'),
    actors,
    ...load.chattering.map((c) =>
      h(
        'p',
        { className: 'warn' },
        `Chattering: ${c.deviceId} ${c.inference}, ${c.bursts} burst(s) of 3 or more in a minute`,
      ),
    ),
    ...load.stale.map((a) =>
      h(
        'p',
        { className: 'warn' },
        `Stale: ${a.deviceId} ${a.status} since ${new Date(a.openedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      ),
    ),
  );
}
