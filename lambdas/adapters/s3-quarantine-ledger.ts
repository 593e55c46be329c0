import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { Reason } from '../../core/contracts/reasons.ts';
import type { QuarantineEntry } from '../../core/ingest/ports.ts';
import type { QuarantineLedger, ReplayFilter } from '../../core/ingest/quarantine-replay.ts';
import { S3QuarantineSink } from './s3-quarantine-sink.ts';

/** Objects read at once while paging: enough to keep a replay busy, few enough for one function. */
const PARALLEL_READS = 16;

const reasonSchema = z.object({ path: z.string(), code: z.string(), message: z.string() });

/** A quarantine object as S3QuarantineSink writes it (and a replay rewrites it, with replayedAt). */
const entrySchema = z.object({
  id: z.string().min(1),
  stage: z.enum(['validation', 'store-rejected', 'health']),
  useCase: z.string(),
  deviceId: z.string(),
  topic: z.string(),
  clientId: z.string(),
  receivedAt: z.number(),
  quarantinedAt: z.number(),
  reasons: z.array(reasonSchema),
  payloadBase64: z.string(),
});

/**
 * One use case's quarantine in the bucket, as a replay sees it. Objects are paged in key order
 * (`after` is the last entry of the previous page). A stored entry's object moves to
 * `quarantine-resolved/` with how it was resolved, and is deleted from `quarantine/` only after
 * that copy is written: on a versioned bucket, the old version stays too. A still-refused entry is
 * rewritten in place with today's reasons.
 */
export class S3QuarantineLedger implements QuarantineLedger {
  /** Objects that are not quarantine entries (written by hand?): left where they are, and counted. */
  unreadable = 0;

  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
    private readonly useCase: string,
    private readonly prefix = 'quarantine/',
    private readonly resolvedPrefix = 'quarantine-resolved/',
  ) {}

  async pending(
    filter: Pick<ReplayFilter, 'useCase' | 'since'>,
    after: QuarantineEntry | undefined,
    limit: number,
  ): Promise<QuarantineEntry[]> {
    if (filter.useCase !== undefined && filter.useCase !== this.useCase) return [];
    const entries: QuarantineEntry[] = [];
    let token: string | undefined;
    const startAfter = after ? S3QuarantineSink.keyFor(after, this.prefix) : undefined;
    do {
      const listed = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucketName,
          Prefix: `${this.prefix}use_case=${this.useCase}/`,
          ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
        }),
      );
      const keys = (listed.Contents ?? []).flatMap((object) => {
        // Health reports are not telemetry; an object last written before `since` was quarantined before it.
        if (!object.Key || object.Key.includes('/stage=health/')) return [];
        if (filter.since !== undefined && (object.LastModified?.getTime() ?? Infinity) < filter.since)
          return [];
        return [object.Key];
      });
      for (let i = 0; i < keys.length; i += PARALLEL_READS) {
        const read = await Promise.all(keys.slice(i, i + PARALLEL_READS).map((key) => this.read(key)));
        for (const entry of read) {
          if (!entry || (filter.since !== undefined && entry.quarantinedAt < filter.since)) continue;
          entries.push(entry);
          if (entries.length >= limit) return entries;
        }
      }
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token);
    return entries;
  }

  private async read(key: string): Promise<QuarantineEntry | undefined> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
    const text = (await object.Body?.transformToString('utf8')) ?? '';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = entrySchema.safeParse(json);
    if (!parsed.success) {
      this.unreadable += 1;
      return undefined;
    }
    return parsed.data;
  }

  async resolve(entry: QuarantineEntry, outcome: 'stored' | 'duplicate', at: number): Promise<void> {
    const key = S3QuarantineSink.keyFor(entry, this.prefix);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: `${this.resolvedPrefix}${key.slice(this.prefix.length)}`,
        Body: JSON.stringify({ ...entry, outcome, resolvedAt: at }),
        ContentType: 'application/json',
      }),
    );
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName, Key: key }));
  }

  async requarantine(entry: QuarantineEntry, reasons: readonly Reason[], at: number): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: S3QuarantineSink.keyFor(entry, this.prefix),
        Body: JSON.stringify({ ...entry, reasons, replayedAt: at }),
        ContentType: 'application/json',
      }),
    );
  }
}
