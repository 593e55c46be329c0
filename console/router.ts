import { api } from './api.ts';
import type { Page, PageContext } from './page.ts';
import { devicePage } from './pages/device.ts';
import { fleetPage } from './pages/fleet.ts';
import { inboxPage } from './pages/inbox.ts';
import { useCasePage } from './pages/use-case.ts';
import { markCurrent, type Shell } from './shell.ts';

/** How often the console looks whether the shown page is due for news (its refreshMs). */
const POLL_MS = 3000;

export function route(ctx: PageContext, hash: string): Page {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [head, a, b] = parts;
  if (head === 'fleet') return fleetPage(ctx);
  if (head === 'devices' && a && b) return devicePage(ctx, a, b);
  if (head === 'use-cases' && a) return useCasePage(ctx, a);
  return inboxPage(ctx, undefined);
}

/** Shows the page the address names and keeps it fresh while the tab is visible. */
export function startPages(ctx: PageContext, shell: Shell): void {
  let page: Page | undefined;
  let refreshing: Promise<void> | undefined;
  let refreshedAt = 0;
  const refresh = () => {
    // One refresh at a time: a slow answer over plant Wi-Fi must not pile requests up.
    if (!page || refreshing) return;
    const current = page;
    refreshedAt = Date.now();
    refreshing = current
      .refresh()
      .catch((error: unknown) => {
        ctx.error(error);
      })
      .finally(() => {
        refreshing = undefined;
        if (current === page) shell.main.setAttribute('aria-busy', 'false');
      });
  };
  const show = () => {
    page = route(ctx, location.hash);
    markCurrent(shell.nav, location.hash);
    document.title = `${page.title} · aiot`;
    shell.main.setAttribute('aria-busy', 'true');
    shell.main.replaceChildren(page.element);
    refreshing = undefined;
    refresh();
  };
  window.addEventListener('hashchange', show);
  show();
  const updateBadge = () =>
    api<{ alerts: unknown[] }>('GET', '/alerts?status=open,acknowledged&limit=1000')
      .then(({ alerts }) => {
        ctx.openAlerts(alerts.length);
      })
      .catch(() => undefined);
  void updateBadge();
  setInterval(() => {
    // A hidden tab asks for nothing: plant Wi-Fi is shared.
    if (document.visibilityState !== 'visible') return;
    // Half a tick of slack: a tick a few milliseconds early must not put the page off a whole tick.
    if (page && Date.now() - refreshedAt >= page.refreshMs - POLL_MS / 2) refresh();
    // The inbox counts its own alerts; other pages ask for the badge.
    if (!location.hash.startsWith('#/inbox') && location.hash !== '' && location.hash !== '#/')
      void updateBadge();
  }, POLL_MS);
}
