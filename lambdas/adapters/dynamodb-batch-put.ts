import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const ATTEMPTS = 5;

/** Puts the items, 25 to a request (DynamoDB's limit), writing again what it leaves unprocessed. */
export async function batchPut(
  client: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  what: string,
): Promise<void> {
  for (let index = 0; index < items.length; index += 25) {
    let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] =
      items.slice(index, index + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt === ATTEMPTS)
        throw new Error(`DynamoDB left ${requests.length} ${what} unwritten ${ATTEMPTS} times`);
      const { UnprocessedItems } = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = UnprocessedItems?.[tableName] ?? [];
    }
  }
}
