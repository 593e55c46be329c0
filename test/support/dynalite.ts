import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import type { TemplateJson } from './template-env.ts';

/**
 * A DynamoDB implementation from npm (dynalite, in memory) on a free loopback port, with a table
 * made exactly as the template declares it (keys, attributes, indexes). dynalite implements the
 * item, query and conditional-write API, not transactions (TransactWriteItems answers
 * UnknownOperationException).
 */
export interface DynamoServer {
  readonly client: DynamoDBClient;
  /** Its URL, for a client that finds its endpoint in `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Creates the template's table `logicalId`, named as template-env names it (its logical id). */
  createTable(template: TemplateJson, logicalId: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startDynamoServer(): Promise<DynamoServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    endpoint,
    async createTable(template, logicalId) {
      const properties = template.Resources[logicalId]?.Properties as
        Partial<CreateTableCommandInput> | undefined;
      if (!properties) throw new Error(`the template has no table ${logicalId}`);
      await client.send(
        new CreateTableCommand({
          TableName: logicalId,
          KeySchema: properties.KeySchema,
          AttributeDefinitions: properties.AttributeDefinitions,
          GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return logicalId;
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
