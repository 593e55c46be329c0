import { QueryCommand, type TimestreamQueryClient } from '@aws-sdk/client-timestream-query';

/** One result row of a Timestream query: column name to scalar text, null for NULL. */
export type TimestreamRow = Record<string, string | null>;

/** Every row of a query, page by page. */
export async function timestreamRows(client: TimestreamQueryClient, sql: string): Promise<TimestreamRow[]> {
  const rows: TimestreamRow[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new QueryCommand({ QueryString: sql, NextToken: nextToken }));
    const names = (page.ColumnInfo ?? []).map((c) => c.Name ?? '');
    for (const row of page.Rows ?? []) {
      rows.push(
        Object.fromEntries(
          names.map((name, index) => {
            const datum = row.Data?.[index];
            return [name, datum?.NullValue ? null : (datum?.ScalarValue ?? null)];
          }),
        ),
      );
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return rows;
}

/** A text value as a Timestream SQL literal. */
export const sqlQuote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Names this project's Timestream reads accept in a query: nothing a device sends can reach one. */
export const TIMESTREAM_NAME = /^[A-Za-z0-9_.-]+$/;
