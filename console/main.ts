// First: uPlot reads the browser's language as it loads.
import './locale-guard.ts';
import './styles/base.css';
import './styles/inbox.css';
import './styles/charts.css';
import './styles/pages.css';
// Last: a phone's rules override the others.
import './styles/phone.css';
import { api, ApiError, type Session } from './api.ts';
import { initAuth, signOut } from './auth.ts';
import { h } from './dom.ts';
import type { Page, PageContext, ToastAction } from './page.ts';
import { devicePage } from './pages/device.ts';
import { fleetPage } from './pages/fleet.ts';
import { inboxPage } from './pages/inbox.ts';
import { useCasePage } from './pages/use-case.ts';

/** How often the console looks whether the shown page is due for news (its refreshMs). */
const POLL_MS = 3000;

interface UseCases {
  readonly useCases: PageContext['useCases'];
  readonly falsePositiveReasons: readonly string[];
}

function route(ctx: PageContext, hash: string): Page {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [head, a, b] = parts;
  if (head === 'fleet') return fleetPage(ctx);
  if (head === 'devices' && a && b) return devicePage(ctx, a, b);
  if (head === 'use-cases' && a) return useCasePage(a);
  return inboxPage(ctx, undefined);
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) throw new Error('the page has no #app element');
  const config = await initAuth();
  const [session, { useCases, falsePositiveReasons }] = await Promise.all([
    api<Session>('GET', '/session'),
    api<UseCases>('GET', '/use-cases'),
  ]);
  const toasts = h('div', { className: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });
  const badge = h('span', { className: 'count', attrs: { 'aria-label': 'open alerts' } });
  const primary = useCases[0];
  const nav = h(
    'nav',
    { attrs: { 'aria-label': 'Pages' } },
    h('a', { attrs: { href: '#/inbox', 'data-page': 'inbox' } }, 'Alerts ', badge),
    h('a', { attrs: { href: '#/fleet', 'data-page': 'fleet' } }, 'Fleet'),
    ...useCases.map((u) =>
      h(
        'a',
        {
          attrs: {
            href: `#/use-cases/${encodeURIComponent(u.id)}`,
            'data-page': 'use-cases',
            'data-id': u.id,
          },
        },
        u.id === primary?.id && useCases.length === 1 ? 'Use case' : u.id,
      ),
    ),
  );
  const who = h(
    'span',
    { className: 'who' },
    `${session.actor.name} · ${session.actor.role}`,
    config.mode === 'cognito' ? h('button', { className: 'link', onClick: signOut }, 'Sign out') : null,
  );
  const main = h('main', { attrs: { id: 'main', tabindex: '-1' } });
  root.replaceChildren(
    h('a', { className: 'skip', attrs: { href: '#main' } }, 'Skip to content'),
    h('header', { className: 'top' }, h('span', { className: 'brand' }, 'aiot'), nav, who),
    main,
    toasts,
  );

  const ctx: PageContext = {
    session,
    useCases,
    falsePositiveReasons,
    toast(message: string, action?: ToastAction) {
      const toast = h('div', { className: 'toast' }, h('span', {}, message));
      let timer = setTimeout(() => {
        toast.remove();
      }, action?.forMs ?? 5000);
      if (action) {
        const started = Date.now();
        const button = h('button', {
          className: 'big',
          onClick: () => {
            clearTimeout(timer);
            button.disabled = true;
            action.run().then(() => {
              toast.remove();
            }, ctx.error);
          },
        });
        const tick = () => {
          const left = Math.ceil((action.forMs - (Date.now() - started)) / 1000);
          button.textContent = `${action.label} (${Math.max(0, left)} s)`;
          if (left > 0 && toast.isConnected) setTimeout(tick, 250);
        };
        tick();
        toast.append(button);
        clearTimeout(timer);
        timer = setTimeout(() => {
          toast.remove();
        }, action.forMs);
      }
      toasts.append(toast);
    },
    error(error: unknown) {
      if (error instanceof ApiError && error.status === 401) return;
      const message = error instanceof Error ? error.message : String(error);
      const toast = h(
        'div',
        { className: 'toast error', attrs: { role: 'alert' } },
        h('span', {}, message),
        h(
          'button',
          {
            className: 'big',
            onClick: () => {
              toast.remove();
            },
          },
          'Dismiss',
        ),
      );
      toasts.append(toast);
    },
    openAlerts(count: number) {
      badge.textContent = count > 0 ? String(count) : '';
    },
  };

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
        if (current === page) main.setAttribute('aria-busy', 'false');
      });
  };
  const show = () => {
    page = route(ctx, location.hash);
    // One link is current: each use case has its own, so the page and its id must both match.
    const [active = 'inbox', id] = location.hash.replace(/^#\/?/, '').split('/');
    for (const link of nav.querySelectorAll('a')) {
      const current =
        link.dataset.page === (active || 'inbox') &&
        (link.dataset.id === undefined || link.dataset.id === decodeURIComponent(id ?? ''));
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${page.title} · aiot`;
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(page.element);
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
    if (!location.hash.startsWith('#/inbox') && location.hash !== '' && location.hash !== '#/')
      void updateBadge();
  }, POLL_MS);
}

main().catch((error: unknown) => {
  const root = document.getElementById('app');
  root?.replaceChildren(
    h(
      'p',
      { className: 'error' },
      `The console could not start: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
});
