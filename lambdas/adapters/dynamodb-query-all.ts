import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type QueryInput = Omit<
  ConstructorParameters<typeof QueryCommand>[0],
  'TableName' | 'ExclusiveStartKey'
>;

/**
 * Every item a query finds, page after page (DynamoDB answers up to 1 MB a page), or the first
 * `limit` that `keep` keeps.
 */
export async function queryAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  input: QueryInput,
  limit = Number.POSITIVE_INFINITY,
  keep: (item: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []).filter(keep));
    start = page.LastEvaluatedKey;
  } while (start && items.length < limit);
  return items.slice(0, limit);
}
