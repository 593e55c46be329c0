/** Refusals said in full before the rest are only counted: enough to see what is wrong. */
const IN_FULL = 10;
/** Reasons of one refusal said on its line; the rest are in the reject file. */
const REASONS_SHOWN = 3;

/**
 * The contract's "(missing)" reasons as one: a reading that names a measure or two says which of
 * the contract's others it lacks in one line instead of one reason each.
 */
export function collapseMissing(reasons: readonly string[]): string[] {
  const missing = reasons.flatMap((reason) => /^measures\.([^:]+): .*\(missing\)$/.exec(reason)?.[1] ?? []);
  if (missing.length < 2) return [...reasons];
  const rest = reasons.filter((reason) => !/^measures\.[^:]+: .*\(missing\)$/.test(reason));
  return [
    `missing measures ${missing.join(', ')}: every line carries each required measure of the contract`,
    ...rest,
  ];
}

/**
 * Says on the terminal why readings are refused, so none vanishes without a word: the first few
 * with their reasons, then a count now and then. Every refusal is in the reject file whatever is
 * said here.
 */
export class RefusalReporter {
  /** The reject file, named in what is said. */
  file = 'the reject file';
  private said = 0;
  private unsaid = 0;

  constructor(
    private readonly write: (line: string) => void = (line) => {
      console.error(line);
    },
  ) {}

  say(given: readonly string[]): void {
    if (this.said >= IN_FULL) {
      this.unsaid += 1;
      return;
    }
    this.said += 1;
    const reasons = collapseMissing(given);
    const shown = reasons.slice(0, REASONS_SHOWN).join('; ');
    const more = reasons.length > REASONS_SHOWN ? `; and ${reasons.length - REASONS_SHOWN} more` : '';
    this.write(`refused a reading: ${shown}${more} (kept in ${this.file})`);
    if (this.said === IN_FULL) this.write(`further refusals are counted here and kept in ${this.file}`);
  }

  /** Says how many were refused since it last said so. */
  flush(): void {
    if (this.unsaid === 0) return;
    this.write(
      `refused ${this.unsaid} more ${this.unsaid === 1 ? 'reading' : 'readings'} (kept in ${this.file})`,
    );
    this.unsaid = 0;
  }
}
