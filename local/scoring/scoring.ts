import type { AlertService } from '../../core/alerts/alert-service.ts';
import type { DeviceScoring } from '../../core/baseline/device-scoring.ts';
import type { InferenceRecord, InferenceStore } from '../../core/inference/inference-records.ts';
import type { TelemetryRecord } from '../../core/ingest/records.ts';

const LATENCY_SAMPLES = 2000;

export interface ScoringCounters {
  scored: number;
  skipped: number;
  /** Readings that calibrated a device's baseline (scored, never flagged). */
  calibrating: number;
  anomalies: number;
}

/**
 * Readings one scoring pass takes at most: a backlog is scored in passes of this size. Large, as a
 * pass's cost is mostly per device (its state, its window's history rows, its alert track): at
 * 5,000 readings a second a cap of 500 made every pass pay that cost for ten readings a device,
 * and the backlog grew (docs/benchmarks.md).
 */
export const MAX_PASS_READINGS = 20_000;

/**
 * Scores what ingestion stored, off the storage path: `submit` returns at once, so a slow or
 * failing model server never holds up the queue. Batches are scored one pass after another, in the
 * order they were stored, so each device's baseline and alert state advance in time order; the
 * alert policy runs on each pass's scores. Batches that queued while a pass ran are scored together
 * in the next: a pass costs a model round trip, a store write and an alert pass whatever its size,
 * so a backlog of small batches (a paced device, one reading a batch) is caught up instead of
 * growing. `drain` waits for what is queued.
 */
export class LocalScoring {
  readonly counters: ScoringCounters = { scored: 0, skipped: 0, calibrating: 0, anomalies: 0 };
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly pending: TelemetryRecord[] = [];
  private readonly latencies: number[] = [];

  constructor(
    private readonly scoring: Pick<DeviceScoring, 'score'>,
    private readonly store: InferenceStore,
    private readonly alerts: Pick<AlertService, 'process'> | undefined,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly onScored: (rows: readonly InferenceRecord[]) => void = () => undefined,
  ) {}

  submit(records: readonly TelemetryRecord[]): void {
    if (records.length === 0) return;
    this.pending.push(...records);
    this.queued += records.length;
    // An earlier link may already have taken these records: then this one finds nothing.
    this.chain = this.chain.then(() => this.nextPass());
  }

  /** Scores everything pending, in passes of at most MAX_PASS_READINGS; a later link finds nothing. */
  private async nextPass(): Promise<void> {
    for (;;) {
      const records = this.pending.splice(0, MAX_PASS_READINGS);
      if (records.length === 0) return;
      // A pass that fails loses its scores (the readings stay stored, unscored), not the passes after it.
      await this.run(records).catch(this.onError);
      this.queued -= records.length;
    }
  }

  private async run(records: readonly TelemetryRecord[]): Promise<void> {
    const devices = await this.scoring.score(records);
    const rows = devices.flatMap((device) => device.inferences);
    await this.store.writeInferences(rows);
    this.onScored(rows);
    for (const device of devices) {
      // One round trip per device window: its readings share the latency.
      const latency = device.inferences.find((row) => row.latencyMs !== null)?.latencyMs;
      if (latency !== undefined && latency !== null) {
        this.latencies.push(latency);
        if (this.latencies.length > LATENCY_SAMPLES) this.latencies.shift();
      }
    }
    for (const row of rows) {
      if (row.status === 'skipped') this.counters.skipped += 1;
      else this.counters.scored += 1;
      if (row.deviceState === 'calibrating') this.counters.calibrating += 1;
      if (row.anomalous) this.counters.anomalies += 1;
    }
    await this.alerts?.process(devices);
  }

  /** Latency percentiles (ms) of the recent scoring round trips. */
  latency(): { p50: number; p99: number } | undefined {
    if (this.latencies.length === 0) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99) };
  }

  async drain(): Promise<void> {
    while (this.queued > 0) await this.chain;
  }
}
