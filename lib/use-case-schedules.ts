import { Stack, Validations, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEAD_LETTER_QUEUE_PROPS } from './dead-letter-queue.ts';
import { serviceOfThisAccount } from './grants.ts';

export interface UseCaseSchedule {
  readonly useCase: string;
  readonly description: string;
  readonly every: Duration;
}

/**
 * One EventBridge Scheduler schedule per use case invoking `fn` with `{ useCase }`: two retries,
 * an event no older than its period, then a dead-letter queue; one role that may invoke `fn` only.
 * Made in `scope` as `DeadLetterQueue`, `ScheduleRole` and `Schedule-<use case>`.
 */
export function useCaseSchedules(
  scope: Construct,
  fn: lambda.IFunction & { readonly node: lambda.Function['node'] },
  entries: readonly UseCaseSchedule[],
  /** Whose schedules these are, for the dead-letter queue's reason ("drift", "KPI"), and the role's description. */
  owner: { readonly name: string; readonly roleDescription: string },
): { readonly schedules: ReadonlyMap<string, scheduler.Schedule>; readonly deadLetterQueue: sqs.Queue } {
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    ...DEAD_LETTER_QUEUE_PROPS,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This is the dead-letter queue of the ${owner.name} schedules itself.`,
  });
  const role = new iam.Role(scope, 'ScheduleRole', {
    assumedBy: serviceOfThisAccount(scope, 'scheduler.amazonaws.com'),
    description: owner.roleDescription,
  });
  const schedules = new Map(
    entries.map((entry) => [
      entry.useCase,
      new scheduler.Schedule(scope, `Schedule-${entry.useCase}`, {
        description: entry.description,
        schedule: scheduler.ScheduleExpression.rate(entry.every),
        target: new schedulerTargets.LambdaInvoke(fn, {
          input: scheduler.ScheduleTargetInput.fromObject({ useCase: entry.useCase }),
          retryAttempts: 2,
          maxEventAge: entry.every,
          deadLetterQueue,
          role,
        }),
      }),
    ]),
  );
  const functionLogicalId = Stack.of(scope).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
    reason:
      "The scheduler's Lambda target grants the function and its versions; the role can invoke this one function only.",
  });
  return { schedules, deadLetterQueue };
}
