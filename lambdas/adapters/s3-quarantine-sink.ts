import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { QuarantineEntry, QuarantineOutcome, QuarantineSink } from '../../core/ingest/ports.ts';

/**
 * Keeps each quarantined message as one JSON object, partitioned for Athena by use case, stage
 * and day. The key ends in the message id and is written only if absent (If-None-Match), so a
 * redelivered message finds its own object and the first entry stays as it was.
 */
export class S3QuarantineSink implements QuarantineSink {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
    private readonly prefix = 'quarantine/',
  ) {}

  static keyFor(entry: QuarantineEntry, prefix = 'quarantine/'): string {
    const day = new Date(entry.receivedAt).toISOString().slice(0, 10);
    const device = entry.deviceId || '_unknown';
    return `${prefix}use_case=${entry.useCase || '_unknown'}/stage=${entry.stage}/date=${day}/${device}/${entry.id}.json`;
  }

  async put(entry: QuarantineEntry): Promise<QuarantineOutcome> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: S3QuarantineSink.keyFor(entry, this.prefix),
          Body: JSON.stringify(entry),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      return 'kept';
    } catch (error) {
      // 412: the object exists, written by an earlier delivery. (A 409 conflict is retried.)
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412)
        return 'already-kept';
      throw error;
    }
  }
}
