import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { InboundMessage } from '../../core/ingest/ingest-batch.ts';
import { compiledContracts } from '../../lib/use-case-config.ts';
import { pumpTelemetryV1 } from './contracts.ts';

/** An SQS event delivering `messages`, as the event source mapping hands them to the handler. */
export function sqsEvent(messages: readonly InboundMessage[]): SQSEvent {
  return { Records: messages.map((m) => ({ messageId: m.id, body: m.body }) as SQSRecord) };
}

/** The environment the IngestPipeline construct gives the ingest function. */
export const ingestEnv = {
  AWS_REGION: 'eu-west-1',
  USE_CASE: 'pump-maintenance',
  // What the construct's esbuild define puts in the bundle: the accepted versions, current first.
  AIOT_CONTRACTS: JSON.parse(
    compiledContracts([pumpTelemetryV1])['process.env.AIOT_CONTRACTS'] ?? '""',
  ) as string,
  TELEMETRY_STORE: 'liveanalytics',
  TIMESTREAM_DATABASE: 'db',
  TIMESTREAM_TABLE: 'telemetry',
  MAX_RECORD_AGE_DAYS: '730',
  TIMESTREAM_INFERENCES_TABLE: 'inferences',
  QUARANTINE_BUCKET: 'quarantine-bucket',
};

/** A reading time `second` seconds after the example's. */
export function at(second: number): string {
  return new Date(Date.parse('2026-01-15T08:30:00.000Z') + second * 1000).toISOString();
}
