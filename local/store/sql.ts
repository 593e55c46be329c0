/** A text value as a SQL literal: the local query API takes whole statements. */
export function sqlText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Rows of values as one multi-row VALUES list with numbered parameters: `(..), (..)` and the
 * parameters in order. `cast` wraps a column's reference, by index: epoch microseconds into
 * `make_timestamp(...)`, text into `::JSON`.
 */
export function valuesList<V>(
  rows: readonly (readonly V[])[],
  cast: Readonly<Record<number, (ref: string) => string>> = {},
): { sql: string; params: V[] } {
  const params: V[] = [];
  const tuples = rows.map((values) => {
    const refs = values.map((value, index) => {
      params.push(value);
      const ref = `$${params.length}`;
      return cast[index]?.(ref) ?? ref;
    });
    return `(${refs.join(', ')})`;
  });
  return { sql: tuples.join(', '), params };
}

/** Epoch milliseconds as the epoch microseconds a TIMESTAMP parameter takes, rounded to the millisecond. */
export const micros = (ms: number): bigint => BigInt(Math.round(ms)) * 1000n;

/** A parameter holding epoch microseconds, as a TIMESTAMP. */
export const asTimestamp = (ref: string): string => `make_timestamp(${ref}::BIGINT)`;
export const asJson = (ref: string): string => `${ref}::JSON`;

/** A time (epoch ms, whole milliseconds) as a TIMESTAMP literal for a statement's text. */
export function timestampLiteral(ms: number): string {
  return `make_timestamp(${Math.floor(ms) * 1000}::BIGINT)`;
}

/** A text cell of the local store; anything else is a broken row. */
export function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected text in the local store, got ${typeof value}`);
  return value;
}
