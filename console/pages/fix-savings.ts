import type { Alert } from '../../core/alerts/lifecycle.ts';
import type { FixSavings } from '../../core/kpi/mv/fix-savings.ts';
import { fixSavingsText } from '../../core/kpi/wording.ts';
import { api } from '../api.ts';
import { clock, h } from '../dom.ts';

/** How long a fix's measured savings are shown before they are asked for again: they move by the hour. */
const SAVINGS_REFRESH_MS = 10 * 60_000;

/**
 * "What did fixing it save?": for each alert operators confirmed whose condition has cleared, the
 * savings since the fix against the device's own faulted baseline (M&V), asked for at most every
 * ten minutes per alert (each answer reads the store hour by hour).
 */
export function fixSavingsSection(): {
  element: HTMLElement;
  update(alerts: readonly Alert[]): Promise<void>;
} {
  const element = h('div', { className: 'fix-savings' });
  const known = new Map<string, { at: number; savings: FixSavings }>();
  return {
    element,
    async update(alerts) {
      const fixed = alerts.filter((alert) => alert.verdict?.kind === 'confirmed' && alert.clearedAt !== null);
      const now = Date.now();
      for (const alert of fixed) {
        const cached = known.get(alert.id);
        if (cached && now - cached.at < SAVINGS_REFRESH_MS) continue;
        const savings = await api<FixSavings>('GET', `/alerts/${encodeURIComponent(alert.id)}/savings`);
        known.set(alert.id, { at: now, savings });
      }
      element.replaceChildren(
        fixed.length === 0
          ? h(
              'p',
              { className: 'muted' },
              'No fixed faults yet: savings show once operators confirm a fault and it clears.',
            )
          : h(
              'ul',
              {},
              ...fixed.map((alert) => {
                const savings = known.get(alert.id)?.savings;
                const mode = alert.verdict?.kind === 'confirmed' ? alert.verdict.failureMode : undefined;
                return h(
                  'li',
                  { attrs: { 'data-alert': alert.id, 'data-status': savings?.status ?? 'unknown' } },
                  h('span', { className: 'muted' }, `${clock(alert.clearedAt ?? 0)} `),
                  savings ? fixSavingsText(savings, mode) : '…',
                );
              }),
            ),
      );
    },
  };
}
