import type { DataContract, ReadingOrigin, TelemetryMessage } from '../contracts/contract.ts';
import { formatReason, reasonsFromZod } from '../contracts/reasons.ts';
import { DeadbandGate, HampelFilter, RateOfChangeFilter, WindowMean } from './filters.ts';
import type { ResolvedEdgeSettings } from './settings.ts';

/** One reading as a source delivers it, before anything checked it. */
export interface SourceReading {
  /** When the reading was taken: epoch ms or ISO 8601. @default the agent's clock */
  readonly timestamp?: number | string;
  /** Values by contract measure name. */
  readonly measures: Readonly<Record<string, unknown>>;
}

export interface DeviceIdentity {
  readonly thing: string;
  readonly firmware: string;
  readonly hardwareGeneration: string;
  /** Set to "simulated" by simulators, so every message says so. @default - a real device (no tag) */
  readonly origin?: ReadingOrigin;
}

/** A reading that passed every check and filter, ready to be numbered and queued. */
export interface ReadyReading {
  readonly time: number;
  readonly measures: Readonly<Record<string, number>>;
}

export interface PreprocessorCounters {
  /** Readings the source delivered. */
  readonly readings: number;
  /** Refused by the contract or as physically implausible; each is in the reject file. */
  readonly rejected: number;
  /** Not sent because the deadband said nothing changed. */
  readonly filtered: number;
  /** Isolated outliers the spike filter found (flagged or replaced), by measure. */
  readonly spikes: Readonly<Record<string, number>>;
  /** Readings folded into an aggregation window's mean. */
  readonly aggregated: number;
}

export interface AcceptResult {
  readonly ready: readonly ReadyReading[];
  /** Every reason the reading was refused; absent when it was not. */
  readonly rejected?: readonly string[];
}

export type BuildResult =
  | { readonly ok: true; readonly message: TelemetryMessage }
  | { readonly ok: false; readonly reasons: readonly string[] };

/** The message a device sends, with the contract's metadata tags, checked against the contract. */
export function buildTelemetryMessage(
  contract: DataContract,
  identity: DeviceIdentity,
  reading: { readonly time: number; readonly measures: Readonly<Record<string, unknown>> },
  seq: number,
): BuildResult {
  const time = new Date(reading.time);
  const candidate = {
    contract: contract.id,
    version: contract.version,
    deviceId: identity.thing,
    timestamp: Number.isNaN(time.getTime()) ? String(reading.time) : time.toISOString(),
    seq,
    firmware: identity.firmware,
    hardwareGeneration: identity.hardwareGeneration,
    ...(identity.origin && identity.origin !== 'device' ? { origin: identity.origin } : {}),
    measures: reading.measures,
  };
  const parsed = contract.schema.safeParse(candidate, { reportInput: true });
  return parsed.success
    ? { ok: true, message: parsed.data }
    : { ok: false, reasons: reasonsFromZod(parsed.error.issues).map(formatReason) };
}

/**
 * A reading's time: its own, or, for one without, the agent's clock at arrival, at least a
 * millisecond after the previous reading: two lines piped in the same millisecond are two
 * readings, not a duplicate to refuse.
 */
function parseTime(timestamp: number | string | undefined, now: number, previous: number): number {
  if (timestamp === undefined) return Math.max(now, previous + 1);
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

/**
 * What the edge does to each reading of one device, in this order: check it against the data
 * contract and the time order, refuse physically implausible jumps, flag or replace isolated
 * spikes, fold it into an aggregation window, and drop it when the deadband says nothing changed.
 * Refused readings come back with every reason so the agent can keep them; nothing is lost silently.
 */
export class EdgePreprocessor {
  private readonly rateFilters: Map<string, RateOfChangeFilter>;
  private readonly spikeFilters: Map<string, HampelFilter>;
  private readonly deadband: DeadbandGate | undefined;
  private readonly window: WindowMean | undefined;
  private lastTime = -Infinity;
  private readings = 0;
  private rejected = 0;
  private filtered = 0;
  private aggregated = 0;
  private readonly spikes: Record<string, number> = {};

  constructor(
    private readonly contract: DataContract,
    private readonly identity: DeviceIdentity,
    private readonly settings: ResolvedEdgeSettings,
  ) {
    const measures = Object.keys(contract.measures);
    const checkFields = (fields: Iterable<string>, setting: string) => {
      for (const field of fields)
        if (!measures.includes(field))
          throw new Error(
            `${setting} names "${field}", which is not a measure of ${contract.ref} (measures: ${measures.join(', ')})`,
          );
    };
    checkFields(Object.keys(settings.deadband), 'deadband');
    checkFields(Object.keys(settings.maxChangePerSecond), 'maxChangePerSecond');
    checkFields(settings.spikeFilter?.fields ?? [], 'spikeFilter');
    this.rateFilters = new Map(
      Object.entries(settings.maxChangePerSecond).map(([field, max]) => [field, new RateOfChangeFilter(max)]),
    );
    const spike = settings.spikeFilter;
    this.spikeFilters = new Map(
      (spike?.fields ?? []).map((field) => [
        field,
        new HampelFilter(spike?.window ?? 15, spike?.threshold ?? 4),
      ]),
    );
    // No band at all means no deadband: repeated identical values (a stuck sensor) are data too.
    this.deadband =
      Object.keys(settings.deadband).length > 0
        ? new DeadbandGate(settings.deadband, settings.heartbeatMs)
        : undefined;
    this.window = settings.aggregateMs > 0 ? new WindowMean(settings.aggregateMs) : undefined;
  }

  get counters(): PreprocessorCounters {
    return {
      readings: this.readings,
      rejected: this.rejected,
      filtered: this.filtered,
      spikes: { ...this.spikes },
      aggregated: this.aggregated,
    };
  }

  accept(reading: SourceReading, now: number): AcceptResult {
    this.readings += 1;
    const time = parseTime(reading.timestamp, now, this.lastTime);
    const checked = buildTelemetryMessage(
      this.contract,
      this.identity,
      { time, measures: reading.measures },
      0,
    );
    if (!checked.ok) return this.reject(checked.reasons);
    if (time <= this.lastTime) {
      return this.reject([
        `timestamp: ${new Date(time).toISOString()} is not after the previous reading at ${new Date(this.lastTime).toISOString()}`,
      ]);
    }
    const values = { ...checked.message.measures };
    const implausible: string[] = [];
    for (const [field, filter] of this.rateFilters) {
      const violation = filter.violation(time, values[field] ?? 0);
      if (violation) implausible.push(`measures.${field}: ${violation}`);
    }
    if (implausible.length > 0) return this.reject(implausible);
    for (const [field, filter] of this.rateFilters) filter.accept(time, values[field] ?? 0);
    this.lastTime = time;

    for (const [field, filter] of this.spikeFilters) {
      const verdict = filter.check(values[field] ?? 0);
      if (!verdict.spike) continue;
      this.spikes[field] = (this.spikes[field] ?? 0) + 1;
      if (this.settings.spikeFilter?.mode === 'replace') values[field] = verdict.median;
    }

    let candidate: ReadyReading | undefined = { time, measures: values };
    if (this.window) {
      this.aggregated += 1;
      const closed = this.window.add(time, values);
      candidate = closed && { time: closed.time, measures: closed.values };
    }
    return { ready: candidate ? this.throughDeadband([candidate]) : [] };
  }

  /** The open aggregation window, if any, at shutdown. */
  flush(): ReadyReading[] {
    const closed = this.window?.flush();
    return closed ? this.throughDeadband([{ time: closed.time, measures: closed.values }]) : [];
  }

  private throughDeadband(candidates: ReadyReading[]): ReadyReading[] {
    const gate = this.deadband;
    if (!gate) return candidates;
    return candidates.filter((candidate) => {
      const suppressed = gate.suppressReason(candidate.time, candidate.measures);
      if (suppressed) this.filtered += 1;
      return !suppressed;
    });
  }

  private reject(reasons: readonly string[]): AcceptResult {
    this.rejected += 1;
    return { ready: [], rejected: reasons };
  }
}
