import type { DeviceWindows } from '../core/inference/device-windows.ts';
import { toInferenceRecords, type InferenceStore } from '../core/inference/inference-records.ts';
import type { ResilientScorer } from '../core/inference/resilient-scorer.ts';
import type { TelemetryRecord } from '../core/ingest/records.ts';

const LATENCY_SAMPLES = 2000;

export interface ScoringCounters {
  scored: number;
  skipped: number;
  anomalies: number;
}

/**
 * Scores what ingestion stored, per device, off the storage path: `submit` returns at once, so a
 * slow or failing model server never holds up the queue; `drain` waits for what is in flight.
 */
export class LocalScoring {
  readonly counters: ScoringCounters = { scored: 0, skipped: 0, anomalies: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly latencies: number[] = [];

  constructor(
    private readonly windows: DeviceWindows,
    private readonly scorer: ResilientScorer,
    private readonly store: InferenceStore,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  submit(records: readonly TelemetryRecord[]): void {
    for (const device of this.windows.add(records)) {
      const work = this.scorer
        .score(device.window)
        .then(async (outcome) => {
          const rows = toInferenceRecords(device.useCase, device.deviceId, device.records, outcome);
          await this.store.writeInferences(rows);
          if (outcome.status === 'scored') {
            this.latencies.push(outcome.latencyMs);
            if (this.latencies.length > LATENCY_SAMPLES) this.latencies.shift();
          }
          for (const row of rows) {
            if (row.status === 'skipped') this.counters.skipped += 1;
            else this.counters.scored += 1;
            if (row.anomalous) this.counters.anomalies += 1;
          }
        })
        .catch(this.onError)
        .finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  /** Latency percentiles (ms) of the recent scoring round trips. */
  latency(): { p50: number; p99: number } | undefined {
    if (this.latencies.length === 0) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99) };
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
