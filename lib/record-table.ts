import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';

/**
 * What every DynamoDB table of the stack shares: on demand (no capacity to plan), the stack's own
 * key, and point-in-time recovery, since each holds records people act on (alerts and verdicts,
 * KPI days, the provisioning allow-list).
 */
export function recordTableProps(encryptionKey: kms.IKey) {
  return {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  } as const satisfies Partial<dynamodb.TableProps>;
}
