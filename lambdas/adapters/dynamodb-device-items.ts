import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll } from './dynamodb-query-all.ts';

/** How long a track read along with its device's baseline may stand in for reading it again. */
export const HOLD_MS = 10_000;
/** Partitions held at most; past it the oldest are forgotten (a fleet's batch is up to 100 devices). */
const MAX_HELD = 5_000;

type Item = Record<string, unknown>;

interface Held {
  readonly at: number;
  readonly items: ReadonlyMap<string, Item>;
  readonly taken: Set<string>;
}

/**
 * A device's items (its baseline state and its alert tracks, one partition) read in one strongly
 * consistent query: a read unit per 4 KB of them together, where a read of each item costs a unit
 * apiece (`npm run bench:lambda` measured 1.2 KB an item). Scoring reads the baseline, and the
 * alert policy asks for the track moments later: the track read along is handed over once, within
 * `HOLD_MS`, and read again after that, or after a conflict made the caller read once more.
 * Writes stay conditional on the revision, so a track handed over stale is refused at its save.
 */
export class DeviceItems {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Every item of partition `pk`, by sort key; the ones not asked for now are held. */
  async read(pk: string, asked: string): Promise<ReadonlyMap<string, Item>> {
    const found = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    });
    const items = new Map(found.map((item) => [String(item.sk), item]));
    this.held.delete(pk);
    if (this.held.size >= MAX_HELD) {
      const oldest = this.held.keys().next().value;
      if (oldest !== undefined) this.held.delete(oldest);
    }
    this.held.set(pk, { at: this.now(), items, taken: new Set([asked]) });
    return items;
  }

  /**
   * Item `sk` of partition `pk` as its last read found it (`item` undefined: it was not there), if
   * that read was within `HOLD_MS` and nobody took it since; undefined means: read it yourself.
   */
  take(pk: string, sk: string): { readonly item: Item | undefined } | undefined {
    const held = this.held.get(pk);
    if (!held || this.now() - held.at > HOLD_MS || held.taken.has(sk)) return undefined;
    held.taken.add(sk);
    return { item: held.items.get(sk) };
  }
}
