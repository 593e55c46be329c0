import { ApiError } from './api.ts';
import { h } from './dom.ts';
import type { ToastAction } from './page.ts';

/** The toast area: news that goes by itself, and errors that stay until dismissed. */
export interface Toasts {
  readonly element: HTMLElement;
  readonly toast: (message: string, action?: ToastAction) => void;
  readonly error: (error: unknown) => void;
}

export function createToasts(): Toasts {
  const element = h('div', { className: 'toasts', attrs: { role: 'status', 'aria-live': 'polite' } });
  const error = (failure: unknown) => {
    // A 401 sends the browser to sign in; a toast on top would only confuse.
    if (failure instanceof ApiError && failure.status === 401) return;
    const message = failure instanceof Error ? failure.message : String(failure);
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
    element.append(toast);
  };
  const toast = (message: string, action?: ToastAction) => {
    const item = h('div', { className: 'toast' }, h('span', {}, message));
    const timer = setTimeout(() => {
      item.remove();
    }, action?.forMs ?? 5000);
    // Once used, the toast stays until its action is done: it goes on success, an error says why.
    if (action)
      item.append(
        actionButton(
          item,
          action,
          () => {
            clearTimeout(timer);
          },
          error,
        ),
      );
    element.append(item);
  };
  return { element, toast, error };
}

/** The toast's button counts down the seconds left to use it (the undo window). */
function actionButton(
  toast: HTMLElement,
  action: ToastAction,
  onUse: () => void,
  onError: (error: unknown) => void,
): HTMLButtonElement {
  const started = Date.now();
  const button = h('button', {
    className: 'big',
    onClick: () => {
      onUse();
      button.disabled = true;
      action.run().then(() => {
        toast.remove();
      }, onError);
    },
  });
  const tick = () => {
    const left = Math.ceil((action.forMs - (Date.now() - started)) / 1000);
    button.textContent = `${action.label} (${Math.max(0, left)} s)`;
    if (left > 0 && toast.isConnected) setTimeout(tick, 250);
  };
  tick();
  return button;
}
