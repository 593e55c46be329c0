import { api } from '../api.ts';
import { h } from '../dom.ts';
import type { PageContext } from '../page.ts';

/* What an engineer may change on a device's page: its baseline, and silences. */

/** Re-baseline: the device learns its normal again from its next readings, with the reason kept. */
export function rebaselineForm(
  ctx: PageContext,
  path: string,
  deviceId: string,
  refresh: () => Promise<void>,
): HTMLElement {
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
        return refresh();
      })
      .catch(ctx.error);
  });
  return form;
}

/** Silence the device, or a maintenance window that re-baselines it after. */
export function silenceForm(
  ctx: PageContext,
  useCase: string,
  deviceId: string,
  refresh: () => Promise<void>,
): HTMLElement {
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
        return refresh();
      })
      .catch(ctx.error);
  });
  return form;
}
