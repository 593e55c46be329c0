/** A text value as a SQL literal: the local query API takes whole statements. */
export function sqlText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
