import type { Session } from './api.ts';

/** A toast's button: Undo after a decision, or a suggested next step. */
export interface ToastAction {
  readonly label: string;
  readonly run: () => Promise<void>;
  /** The action is offered this long (the undo window), then the toast goes. */
  readonly forMs: number;
}

export interface PageContext {
  readonly session: Session;
  readonly useCases: readonly {
    readonly id: string;
    readonly name: string;
    readonly groups: readonly string[];
  }[];
  readonly falsePositiveReasons: readonly string[];
  readonly toast: (message: string, action?: ToastAction) => void;
  readonly error: (error: unknown) => void;
  /** Tells the shell the open alert count changed (the inbox badge). */
  readonly openAlerts: (count: number) => void;
}

/** A page of the console: built once per visit, refreshed while it is shown (the live part). */
export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  /**
   * How often the shown page asks for news: the inbox often (new alerts appear within seconds),
   * pages of slower figures less, since each of their refreshes queries the store.
   */
  readonly refreshMs: number;
  refresh(): Promise<void>;
}

export function can(session: Session, permission: Session['permissions'][number]): boolean {
  return session.permissions.includes(permission);
}
