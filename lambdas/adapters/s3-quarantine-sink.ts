import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { QuarantineEntry, QuarantineSink } from '../../core/ingest/ports.ts';

/**
 * Keeps each quarantined message as one JSON object, partitioned for Athena by use case, stage
 * and day. The key ends in the message id, so a redelivered message overwrites itself.
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

  async put(entry: QuarantineEntry): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: S3QuarantineSink.keyFor(entry, this.prefix),
        Body: JSON.stringify(entry),
        ContentType: 'application/json',
      }),
    );
  }
}
