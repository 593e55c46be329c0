import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * What every dead-letter queue of the stack shares: two weeks to look at what failed (SQS's
 * longest), TLS only, and a stated redrive-allow policy (AWS Control Tower's CT.SQS.PR.1). It
 * allows any source queue of this account, SQS's own default: naming the source queue (`byQueue`)
 * would make each queue refer to the other, a cycle CloudFormation cannot create.
 */
export const DEAD_LETTER_QUEUE_PROPS = {
  retentionPeriod: Duration.days(14),
  enforceSSL: true,
  redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
} as const satisfies sqs.QueueProps;
