// First: uPlot reads the browser's language as it loads.
import './locale-guard.ts';
import './styles/base.css';
import './styles/inbox.css';
import './styles/charts.css';
import './styles/pages.css';
// Last: a phone's rules override the others.
import './styles/phone.css';
import { api, type Session } from './api.ts';
import { initAuth } from './auth.ts';
import { h } from './dom.ts';
import type { PageContext } from './page.ts';
import { startPages } from './router.ts';
import { renderShell } from './shell.ts';
import { createToasts } from './toasts.ts';

interface UseCases {
  readonly useCases: PageContext['useCases'];
  readonly falsePositiveReasons: readonly string[];
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) throw new Error('the page has no #app element');
  const config = await initAuth();
  const [session, { useCases, falsePositiveReasons }] = await Promise.all([
    api<Session>('GET', '/session'),
    api<UseCases>('GET', '/use-cases'),
  ]);
  const toasts = createToasts();
  const shell = renderShell(root, session, useCases, {
    signOut: config.mode === 'cognito',
    toasts: toasts.element,
  });
  const ctx: PageContext = {
    session,
    useCases,
    falsePositiveReasons,
    toast: toasts.toast,
    error: toasts.error,
    openAlerts(count: number) {
      shell.badge.textContent = count > 0 ? String(count) : '';
    },
  };
  startPages(ctx, shell);
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
