import { api } from '../api.ts';
import { deviceCharts, type SeriesAnswer } from '../charts.ts';
import { h } from '../dom.ts';
import { can, type Page, type PageContext } from '../page.ts';
import { rebaselineForm, silenceForm } from './device-forms.ts';
import { fixSavingsSection } from './fix-savings.ts';
import {
  alertsTable,
  deviceFacts,
  feedbackTable,
  findingsTable,
  silencesTable,
  type DeviceAnswer,
} from './device-sections.ts';

const RANGES = [15, 60, 360, 1440] as const;
const CHART_REFRESH_MS = 30_000;

/** The time range buttons of the readings' plots; choosing one calls `onChoose`. */
function rangeButtons(initial: number, onChoose: (minutes: number) => void): HTMLElement {
  const group = h(
    'div',
    { className: 'tabs', attrs: { role: 'group', 'aria-label': 'Time range' } },
    ...RANGES.map((m) =>
      h(
        'button',
        {
          className: 'tab',
          attrs: { 'aria-pressed': String(m === initial), 'data-minutes': String(m) },
          onClick: () => {
            for (const b of group.querySelectorAll('button'))
              b.setAttribute('aria-pressed', String(b.dataset.minutes === String(m)));
            onChoose(m);
          },
        },
        m < 60 ? `${m} min` : `${m / 60} h`,
      ),
    ),
  );
  return group;
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
  const [history, health, feedback, silences] = [h('div'), h('div'), h('div'), h('div')];
  const savings = fixSavingsSection();
  const refresh = () => page.refresh();
  const engineer = h('div', { className: 'engineer' });
  if (can(ctx.session, 'rebaseline')) engineer.append(rebaselineForm(ctx, path, deviceId, refresh));
  if (can(ctx.session, 'silence')) engineer.append(silenceForm(ctx, useCase, deviceId, refresh));
  const ranges = rangeButtons(minutes, (chosen) => {
    minutes = chosen;
    chartsAt = 0;
    void page.refresh().catch(ctx.error);
  });
  const element = h(
    'section',
    { className: 'page' },
    h('p', { className: 'crumbs' }, h('a', { attrs: { href: '#/fleet' } }, 'Fleet'), ` › ${useCase}`),
    h('h1', {}, deviceId),
    facts,
    h('h2', {}, 'Readings'),
    ranges,
    charts,
    h('h2', {}, 'Sensor health and drift (7 days)'),
    health,
    h('h2', {}, 'Alerts and verdicts'),
    history,
    h('h2', {}, 'What fixing its faults saved'),
    savings.element,
    h('h2', {}, 'What operators taught the model'),
    feedback,
    h('h2', {}, 'Silences and maintenance windows'),
    silences,
    engineer,
  );
  const page: Page = {
    title: deviceId,
    refreshMs: 15_000,
    element,
    async refresh() {
      const answer = await api<DeviceAnswer>('GET', path);
      const now = Date.now();
      facts.replaceChildren(...deviceFacts(answer, now));
      history.replaceChildren(alertsTable(answer.alerts));
      await savings.update(answer.alerts);
      health.replaceChildren(findingsTable(answer.findings));
      feedback.replaceChildren(feedbackTable(answer.feedback));
      silences.replaceChildren(silencesTable(answer.silences));
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
