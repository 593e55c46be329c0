import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { allowListEntrySchema, type AllowListEntry, type Rotation } from '../../core/provisioning/claim.ts';
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

  async markRotated(
    serialNumber: string,
    certificateId: string,
    rotation: Rotation,
    expected: Pick<AllowListEntry, 'certificateId' | 'previousCertificateId'>,
    at: Date,
  ): Promise<boolean> {
    // The entry must still be what the hook decided on: two renewals cannot both win.
    const names: Record<string, string> = {};
    const values: Record<string, string> = {
      ':certificate': certificateId,
      ':previous': rotation.replaces,
      ':at': at.toISOString(),
    };
    const conditions = ['attribute_exists(provisionedAt)'];
    for (const [key, value] of Object.entries(expected) as [string, string | undefined][]) {
      names[`#${key}`] = key;
      if (value === undefined) conditions.push(`attribute_not_exists(#${key})`);
      else {
        values[`:expected_${key}`] = value;
        conditions.push(`#${key} = :expected_${key}`);
      }
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { serialNumber },
          UpdateExpression:
            'SET certificateId = :certificate, previousCertificateId = :previous, rotatedAt = :at',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async clearPrevious(serialNumber: string, previousCertificateId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { serialNumber },
          UpdateExpression: 'REMOVE previousCertificateId',
          ConditionExpression: 'previousCertificateId = :previous',
          ExpressionAttributeValues: { ':previous': previousCertificateId },
        }),
      );
    } catch (error) {
      // Cleared already, or a newer renewal recorded another: nothing of ours to forget.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
