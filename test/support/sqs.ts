import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { InboundMessage } from '../../core/ingest/ingest-batch.ts';
import { deployedEnvironment } from './deployed-functions.ts';

/** An SQS event delivering `messages`, as the event source mapping hands them to the handler. */
export function sqsEvent(messages: readonly InboundMessage[]): SQSEvent {
  return { Records: messages.map((m) => ({ messageId: m.id, body: m.body }) as SQSRecord) };
}

/**
 * The environment the deployed ingest function of pump-maintenance finds, from the synthesized
 * template of a LiveAnalytics stack without a model (no scoring).
 */
export const INGEST_DEPLOYMENT = 'LiveAnalytics, no trained model';
export const ingestEnv = deployedEnvironment(INGEST_DEPLOYMENT, 'UseCase-pump-maintenance/Ingest/Function');

/** A reading time `second` seconds after the example's. */
export function at(second: number): string {
  return new Date(Date.parse('2026-01-15T08:30:00.000Z') + second * 1000).toISOString();
}
