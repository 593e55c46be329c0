import { z } from 'zod';
import { bytesToBase64 } from './base64.ts';
import { BASIC_INGEST_PREFIX, telemetryTopicFilter } from './topics.ts';

/**
 * What the ingest rule hands to the queue for every message. The payload travels base64-encoded
 * so that a message which is not JSON, or not UTF-8, still reaches validation and quarantine
 * instead of failing inside the rules engine.
 */
export const ruleMessageSchema = z.strictObject({
  payload: z.base64(),
  topic: z.string().min(1),
  thing: z.string(),
  clientId: z.string(),
  receivedAt: z.int().min(0),
});

export type RuleMessage = z.output<typeof ruleMessageSchema>;

/**
 * The IoT SQL of a use case's ingest rule. `topic()` never sees the Basic Ingest prefix, so
 * `topic(3)` is the thing name in both topic forms.
 */
export function ingestRuleSql(useCase: string): string {
  return (
    "SELECT encode(*, 'base64') AS payload, topic() AS topic, topic(3) AS thing, " +
    `clientid() AS clientId, timestamp() AS receivedAt FROM '${telemetryTopicFilter(useCase)}'`
  );
}

/**
 * The same projection, evaluated locally. Given the same inputs it yields what the IoT rule
 * would put on the queue, so the local runtime feeds the ingest logic identical messages.
 */
export function applyIngestRule(input: {
  topic: string;
  payload: Uint8Array;
  clientId: string;
  receivedAt: number;
}): RuleMessage {
  const withoutPrefix = input.topic.startsWith(BASIC_INGEST_PREFIX)
    ? input.topic.split('/').slice(3).join('/')
    : input.topic;
  return {
    payload: bytesToBase64(input.payload),
    topic: withoutPrefix,
    thing: withoutPrefix.split('/')[2] ?? '',
    clientId: input.clientId,
    receivedAt: input.receivedAt,
  };
}
