import {
  DuckDBTypeId,
  StatementType,
  type DuckDBConnection,
  type DuckDBResultReader,
} from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export interface QueryResult {
  readonly columns: string[];
  readonly rows: Row[];
  /** True when the result had more rows than the limit and was cut there. */
  readonly truncated?: boolean;
}

export interface QueryLimits {
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** @default 10000 */
  readonly maxRows?: number;
}

/** A query the store refuses to run (a write, several statements, a syntax error) or stopped. */
export class QueryRefusedError extends Error {
  override readonly name = 'QueryRefusedError';
}

// Statements a reader may run: queries, and plans of queries.
const READ_STATEMENTS = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

// Integer and decimal types DuckDB's JSON conversion writes as strings (they may exceed 2^53).
const WIDE_NUMBERS = new Set([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
]);

/** Rows as JSON, with counts and sums as numbers where a number holds them exactly. */
function jsonRows(result: DuckDBResultReader): Row[] {
  const columns = result.columnNames();
  const wide = result.columnTypes().map((type) => WIDE_NUMBERS.has(type.typeId));
  return result.getRowObjectsJson().map((row) => {
    const out: Row = { ...row };
    columns.forEach((column, index) => {
      const value = row[column];
      if (!wide[index] || typeof value !== 'string') return;
      const number = Number(value);
      const exact = Number.isInteger(number) ? Number.isSafeInteger(number) : String(number) === value;
      if (exact) out[column] = number;
    });
    return out;
  });
}

/** Prepares `sql` when it is one read-only statement (SELECT or EXPLAIN), else refuses it. */
async function prepareRead(reader: DuckDBConnection, sql: string) {
  let statement;
  try {
    const extracted = await reader.extractStatements(sql);
    if (extracted.count !== 1) throw new QueryRefusedError(`one statement at a time, got ${extracted.count}`);
    statement = await extracted.prepare(0);
  } catch (error) {
    if (error instanceof QueryRefusedError) throw error;
    throw new QueryRefusedError(error instanceof Error ? error.message : String(error));
  }
  if (!READ_STATEMENTS.has(statement.statementType)) {
    throw new QueryRefusedError(
      `queries only read: ${StatementType[statement.statementType]} statements are refused (SELECT, EXPLAIN)`,
    );
  }
  return statement;
}

/**
 * Runs one read-only statement on `reader`, at most `timeoutMs` and `maxRows` rows. Anything else
 * (a write, DDL, SET, ATTACH, a transaction, several statements) is refused with
 * QueryRefusedError before it runs.
 */
export async function readOnlyQuery(
  reader: DuckDBConnection,
  sql: string,
  limits: QueryLimits = {},
): Promise<QueryResult> {
  const timeoutMs = limits.timeoutMs ?? 30_000;
  const maxRows = limits.maxRows ?? 10_000;
  const statement = await prepareRead(reader, sql);
  const deadline = { passed: false };
  const timer = setTimeout(() => {
    deadline.passed = true;
    reader.interrupt();
  }, timeoutMs);
  try {
    const result = await statement.runAndReadUntil(maxRows + 1);
    const rows = jsonRows(result);
    return {
      columns: result.columnNames(),
      rows: rows.slice(0, maxRows),
      ...(rows.length > maxRows ? { truncated: true } : {}),
    };
  } catch (error) {
    if (deadline.passed)
      throw new QueryRefusedError(`query stopped after ${timeoutMs / 1000} s, its time limit`);
    throw new QueryRefusedError(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
}
