export interface ShutdownSignalsOptions {
  /** Starts the clean stop, on the first press. */
  readonly stop: (why: string) => void;
  /** What quitting right now would leave undone, told on the second press. */
  readonly atRisk: () => string;
  readonly print?: (line: string) => void;
  readonly exit?: (code: number) => void;
  /**
   * Signals closer than this to the previous one are the same press: a terminal's Ctrl-C reaches
   * the whole process group (npm and the runtime), and npm forwards it once more. @default 1000
   */
  readonly samePressMs?: number;
  readonly now?: () => number;
}

/**
 * Ctrl-C as an operator expects it: the first press stops cleanly (and the caller shows
 * progress), the second says what quitting now would leave undone and asks for a third, the
 * third quits at once.
 */
export class ShutdownSignals {
  private presses = 0;
  private lastPress = Number.NEGATIVE_INFINITY;
  private readonly listener = (signal: NodeJS.Signals) => {
    this.handle(signal);
  };

  constructor(private readonly options: ShutdownSignalsOptions) {}

  handle(signal: NodeJS.Signals): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastPress < (this.options.samePressMs ?? 1000)) return;
    this.lastPress = now;
    this.presses += 1;
    const print =
      this.options.print ??
      ((line: string) => {
        console.error(line);
      });
    const name = signal === 'SIGINT' ? 'Ctrl-C' : signal;
    if (this.presses === 1) this.options.stop(name);
    else if (this.presses === 2)
      print(
        `\n${name} again: still stopping cleanly. ${this.options.atRisk()} Press Ctrl-C once more to quit now.`,
      );
    else {
      print(`\n${name} a third time: quitting now.`);
      (this.options.exit ?? process.exit)(130);
    }
  }

  install(): void {
    process.on('SIGINT', this.listener);
    process.on('SIGTERM', this.listener);
  }

  uninstall(): void {
    process.off('SIGINT', this.listener);
    process.off('SIGTERM', this.listener);
  }
}
