import type { FleetDevice } from '../../core/operators/views.ts';
import { api } from '../api.ts';
import { ago, duration, h } from '../dom.ts';
import type { Page, PageContext } from '../page.ts';

function stateText(device: FleetDevice): string {
  if (device.state === 'calibrating' && device.calibration)
    return `calibrating ${device.calibration.collected}/${device.calibration.needed}`;
  return device.state;
}

/** One device's row: each cell labelled, so a phone shows the row as a card. */
function deviceRow(d: FleetDevice, now: number): HTMLElement {
  const cells: [string, Node | string][] = [
    [
      'Device',
      h(
        'a',
        { attrs: { href: `#/devices/${encodeURIComponent(d.useCase)}/${encodeURIComponent(d.deviceId)}` } },
        d.deviceId,
      ),
    ],
    ['Site / line', d.group],
    ['Online', h('span', { className: d.online ? 'ok' : 'warn' }, d.online ? '● online' : '○ offline')],
    ['Last seen', ago(d.lastSeenAt, now)],
    [
      'Buffered on device',
      d.backlog === null
        ? '–'
        : d.backlog === 0
          ? 'none'
          : `${d.backlog} (oldest ${duration((d.oldestBufferedSeconds ?? 0) * 1000)})`,
    ],
    ['Scoring', stateText(d)],
    ['Baseline', d.baselineVersion === null ? '–' : `v${d.baselineVersion}`],
    ['Model', d.modelVersion ?? '–'],
    ['Open alerts', d.openAlerts === 0 ? '0' : h('strong', { className: 'warn' }, String(d.openAlerts))],
  ];
  return h(
    'tr',
    { attrs: { 'data-device': d.deviceId } },
    ...cells.map(([name, value]) => h('td', { attrs: { 'data-label': name } }, value)),
  );
}

const COLUMNS = [
  'Device',
  'Site / line',
  'Online',
  'Last seen',
  'Buffered on device',
  'Scoring',
  'Baseline',
  'Model',
  'Open alerts',
];

/** The use case and site filters: the sites offered follow the use case chosen. */
function filters(
  ctx: PageContext,
  onChange: () => void,
): { useCase: HTMLSelectElement; group: HTMLSelectElement } {
  const useCase = h('select', { className: 'field', attrs: { 'aria-label': 'Use case' } });
  const group = h('select', { className: 'field', attrs: { 'aria-label': 'Site or line' } });
  useCase.append(h('option', { attrs: { value: '' } }, 'All use cases'));
  for (const u of ctx.useCases) useCase.append(h('option', { attrs: { value: u.id } }, u.name));
  const fillGroups = () => {
    const groups = new Set(
      ctx.useCases.filter((u) => !useCase.value || u.id === useCase.value).flatMap((u) => u.groups),
    );
    group.replaceChildren(
      h('option', { attrs: { value: '' } }, 'All sites and lines'),
      ...[...groups].map((g) => h('option', { attrs: { value: g } }, g)),
    );
  };
  fillGroups();
  useCase.addEventListener('change', () => {
    fillGroups();
    onChange();
  });
  group.addEventListener('change', onChange);
  return { useCase, group };
}

/** Every device: is it online, is it holding back readings, is it scored, does it need attention. */
export function fleetPage(ctx: PageContext): Page {
  const { useCase, group } = filters(ctx, () => void page.refresh().catch(ctx.error));
  const body = h('tbody');
  const summary = h('p', { className: 'muted' });
  const element = h(
    'section',
    { className: 'page' },
    h('h1', {}, 'Fleet'),
    h('div', { className: 'filters' }, useCase, group),
    summary,
    h(
      'table',
      { className: 'fleet' },
      h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
      body,
    ),
  );
  const page: Page = {
    title: 'Fleet',
    refreshMs: 15_000,
    element,
    async refresh() {
      const params = new URLSearchParams();
      if (useCase.value) params.set('use-case', useCase.value);
      if (group.value) params.set('group', group.value);
      const { devices } = await api<{ devices: FleetDevice[] }>('GET', `/fleet?${params.toString()}`);
      const now = Date.now();
      const online = devices.filter((d) => d.online).length;
      summary.textContent = `${devices.length} devices, ${online} online, ${devices.filter((d) => d.state === 'calibrating').length} calibrating, ${devices.reduce((n, d) => n + d.openAlerts, 0)} open alerts`;
      body.replaceChildren(...devices.map((d) => deviceRow(d, now)));
    },
  };
  return page;
}
