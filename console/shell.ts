import type { Session } from './api.ts';
import { signOut } from './auth.ts';
import { h } from './dom.ts';
import type { PageContext } from './page.ts';

/** The frame around every page: the page links with the open-alert badge, and who is signed in. */
export interface Shell {
  readonly nav: HTMLElement;
  readonly badge: HTMLElement;
  readonly main: HTMLElement;
}

export function renderShell(
  root: HTMLElement,
  session: Session,
  useCases: PageContext['useCases'],
  options: { readonly signOut: boolean; readonly toasts: HTMLElement },
): Shell {
  const badge = h('span', { className: 'count', attrs: { 'aria-label': 'open alerts' } });
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
        // A plant with one use case needs no name to tell it apart.
        useCases.length === 1 ? 'Use case' : u.id,
      ),
    ),
  );
  const who = h(
    'span',
    { className: 'who' },
    `${session.actor.name} · ${session.actor.role}`,
    options.signOut ? h('button', { className: 'link', onClick: signOut }, 'Sign out') : null,
  );
  const main = h('main', { attrs: { id: 'main', tabindex: '-1' } });
  root.replaceChildren(
    h('a', { className: 'skip', attrs: { href: '#main' } }, 'Skip to content'),
    h('header', { className: 'top' }, h('span', { className: 'brand' }, 'aiot'), nav, who),
    main,
    options.toasts,
  );
  return { nav, badge, main };
}

/** Marks the one current link: each use case has its own, so the page and its id must both match. */
export function markCurrent(nav: HTMLElement, hash: string): void {
  const [active = 'inbox', id] = hash.replace(/^#\/?/, '').split('/');
  for (const link of nav.querySelectorAll('a')) {
    const current =
      link.dataset.page === (active || 'inbox') &&
      (link.dataset.id === undefined || link.dataset.id === decodeURIComponent(id ?? ''));
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}
