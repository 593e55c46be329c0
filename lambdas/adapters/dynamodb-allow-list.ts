import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { allowListEntrySchema, type AllowListEntry } from '../../core/provisioning/claim.ts';
import type { AllowList } from '../../core/provisioning/pre-provisioning.ts';
import { issuesText } from '../../core/contracts/reasons.ts';

/** The allow-list as a DynamoDB table keyed by `serialNumber`, one item per admitted device. */
export class DynamoDbAllowList implements AllowList {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(serialNumber: string): Promise<AllowListEntry | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { serialNumber }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = allowListEntrySchema.safeParse(Item);
    // An item an operator mistyped admits nobody: refusing is safe, and the log says which.
    if (!parsed.success)
      throw new Error(`allow-list item "${serialNumber}" is malformed: ${issuesText(parsed.error.issues)}`);
    return parsed.data;
  }

  async markProvisioned(serialNumber: string, certificateId: string, at: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { serialNumber },
          UpdateExpression: 'SET provisionedAt = :at, certificateId = :certificate',
          ConditionExpression: 'attribute_exists(serialNumber) AND attribute_not_exists(provisionedAt)',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':certificate': certificateId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
