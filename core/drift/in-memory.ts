import type { TelemetryRecord } from '../ingest/records.ts';
import type { HealthSample } from './checks.ts';
import type { DriftReads, DriftReport, DriftSink, InferenceSample } from './ports.ts';

/** A device's series held in memory, read back by time as a store would: for benchmarks and tests. */
export class InMemoryDriftReads implements DriftReads {
  readonly readingsOf = new Map<string, TelemetryRecord[]>();
  readonly inferencesOf = new Map<string, InferenceSample[]>();
  readonly healthOf = new Map<string, HealthSample[]>();

  devices(_useCase: string, range: { from: number; to: number }): Promise<string[]> {
    return Promise.resolve(
      [...this.readingsOf]
        .filter(([, rows]) => rows.some((r) => r.time >= range.from && r.time <= range.to))
        .map(([device]) => device)
        .sort(),
    );
  }

  readings(
    _useCase: string,
    deviceId: string,
    range: { from: number; to?: number },
    limit: number,
  ): Promise<TelemetryRecord[]> {
    const to = range.to ?? Number.POSITIVE_INFINITY;
    return Promise.resolve(
      (this.readingsOf.get(deviceId) ?? [])
        .filter((r) => r.time >= range.from && r.time <= to)
        .slice(0, limit),
    );
  }

  inferences(
    _useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<InferenceSample[]> {
    return Promise.resolve(
      (this.inferencesOf.get(deviceId) ?? []).filter((s) => s.time >= range.from && s.time <= range.to),
    );
  }

  healthReports(
    _useCase: string,
    deviceId: string,
    range: { from: number; to: number },
  ): Promise<HealthSample[]> {
    return Promise.resolve(
      (this.healthOf.get(deviceId) ?? []).filter(
        (h) => h.receivedAt >= range.from && h.receivedAt <= range.to,
      ),
    );
  }
}

/** Keeps every report it is given. */
export class CollectingDriftSink implements DriftSink {
  readonly reports: DriftReport[] = [];

  record(report: DriftReport): Promise<void> {
    this.reports.push(report);
    return Promise.resolve();
  }
}
