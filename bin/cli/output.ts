import Table from 'cli-table3';

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

export function printTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
  const colour = process.stdout.isTTY;
  const table = new Table({
    head: [...columns],
    style: colour ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const row of rows) {
    table.push(columns.map((column) => cellText(row[column])));
  }
  console.log(table.toString());
}

/**
 * `aiot query ... | head` closes the pipe early: that is the reader saying it has enough, not an
 * error worth a stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
