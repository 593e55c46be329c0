import type { DeviceWindow, DeviceWindows } from '../inference/device-windows.ts';
import { toInferenceRecords, type InferenceRecord } from '../inference/inference-records.ts';
import type { ScoringWindow } from '../inference/ports.ts';
import type { ResilientScorer, ScoringOutcome } from '../inference/resilient-scorer.ts';
import type { Clock } from '../ingest/ports.ts';
import type { TelemetryRecord } from '../ingest/records.ts';
import { SYSTEM } from '../operators/actor.ts';
import type { DeviceBaseline } from '../model/device-baseline.ts';
import type { ActiveBaseline, BaselineState, BaselineStore, TelemetryReader } from './ports.ts';

/** A device's readings of one batch, scored, in time order. */
export interface ScoredDevice {
  readonly useCase: string;
  readonly deviceId: string;
  readonly inferences: readonly InferenceRecord[];
}

export interface DeviceScoringOptions {
  /** Readings a calibration takes, per use case. @default 400 for a use case not listed */
  readonly calibrationReadings?: ReadonlyMap<string, number>;
  /** Attempts of a read-modify-write of one device's state before giving up on this batch. @default 5 */
  readonly maxConflicts?: number;
  /**
   * Calibrations one batch may complete. Each reads its readings back and fits a baseline: a fleet
   * commissioned at once would otherwise complete them all in one batch and hold scoring up for
   * seconds. A device past its count waits for a later batch, still calibrating. @default 4
   */
  readonly maxCalibrationsPerBatch?: number;
}

const DEFAULT_CALIBRATION_READINGS = 400;

/** How many more calibrations the batch being scored may complete. */
interface CalibrationBudget {
  left: number;
}

/**
 * Scores each device against its own baseline, and runs the baseline's life: a device seen for the
 * first time starts calibrating (commissioning), a pending calibration completes once enough
 * readings are stored (they are read back from the store, so the instance that completes it need
 * not have seen them), and readings scored during a calibration or without enough history raise no
 * anomaly. State changes are conditional writes on the device's revision, so several processes
 * (Lambda instances) may score one device's batches at once without losing an update or
 * completing a calibration twice.
 */
export class DeviceScoring {
  private readonly calibrationReadings: ReadonlyMap<string, number>;
  private readonly maxConflicts: number;
  private readonly maxCalibrations: number;

  constructor(
    private readonly windows: DeviceWindows,
    private readonly scorer: ResilientScorer,
    private readonly baselines: BaselineStore,
    private readonly reader: TelemetryReader,
    private readonly clock: Clock,
    options: DeviceScoringOptions = {},
  ) {
    this.calibrationReadings = options.calibrationReadings ?? new Map();
    this.maxConflicts = options.maxConflicts ?? 5;
    this.maxCalibrations = options.maxCalibrationsPerBatch ?? 4;
    if (!Number.isInteger(this.maxCalibrations) || this.maxCalibrations < 1)
      throw new Error(
        `maxCalibrationsPerBatch must be a whole number of at least 1, got ${this.maxCalibrations}`,
      );
  }

  /**
   * Scores newly stored records, one entry per device that got some. Every device's state is
   * brought up to date first, so their windows are asked for in the same turn: a batching client
   * sends them to the model in one call. A device completing its calibration (a read of its
   * readings and a fit) is scored when that is done, without holding the others up.
   */
  async score(records: readonly TelemetryRecord[]): Promise<ScoredDevice[]> {
    const budget: CalibrationBudget = { left: this.maxCalibrations };
    const advancing = this.windows.add(records).map((device) => {
      let decided!: () => void;
      const known = new Promise<void>((resolve) => (decided = resolve));
      const state = this.advance(device, budget, decided).finally(decided);
      // Awaited below, after every device's state is known: a failure must not go unhandled meanwhile.
      state.catch(() => undefined);
      return { device, state, known };
    });
    await Promise.all(advancing.map(({ known }) => known));
    return Promise.all(advancing.map(async ({ device, state }) => this.scoreDevice(device, await state)));
  }

  private target(useCase: string): number {
    return this.calibrationReadings.get(useCase) ?? DEFAULT_CALIBRATION_READINGS;
  }

  private async scoreDevice(device: DeviceWindow, state: BaselineState): Promise<ScoredDevice> {
    const { useCase, deviceId, records } = device;
    const active = state.calibration ? undefined : state.active;
    // Without an active baseline every reading calibrates; after a calibration completed by this
    // batch, the readings up to its last calibration reading were part of it.
    const after = active ? records.findIndex((r) => r.time > active.calibratedUntil) : -1;
    const firstMonitored = after < 0 ? records.length : after;
    const inferences: InferenceRecord[] = [];
    if (firstMonitored > 0) {
      const outcome = await this.scoreWindow(this.subWindow(device, 0, firstMonitored));
      inferences.push(
        ...toInferenceRecords(useCase, deviceId, records.slice(0, firstMonitored), outcome, {
          calibrating: true,
          baselineVersion: active?.version ?? (state.active?.version ?? 0) + 1,
        }),
      );
    }
    if (active && firstMonitored < records.length) {
      const window = this.subWindow(device, firstMonitored, records.length - firstMonitored);
      let baseline = active;
      let outcome = await this.scoreAgainst(device, window, baseline);
      if (outcome.status === 'skipped' && outcome.code === 'baseline-stale') {
        // A new model went live: recalibrate on the stored readings of the same calibration.
        const renewed = await this.recalibrateForNewModel(device, active);
        if (renewed) {
          baseline = renewed;
          outcome = await this.scoreAgainst(device, window, baseline);
        }
      }
      inferences.push(
        ...toInferenceRecords(useCase, deviceId, records.slice(firstMonitored), outcome, {
          calibrating: false,
          baselineVersion: baseline.version,
        }),
      );
    }
    return { useCase, deviceId, inferences };
  }

  private scoreAgainst(
    device: DeviceWindow,
    window: ScoringWindow,
    active: ActiveBaseline,
  ): Promise<ScoringOutcome> {
    return this.scoreWindow({
      ...window,
      baseline: active.baseline,
      // History rows are aged too: the smoothing averages them with the new ones.
      ageSeconds: device.times
        .slice(0, window.rows.length)
        .map((time) => Math.max(0, (time - active.calibratedUntil) / 1000)),
    });
  }

  /**
   * Calibrates the device's baseline again with the model now serving, from the readings its
   * current baseline was calibrated on. Undefined when those readings are gone (retention) or the
   * endpoint fails; the device then keeps its stale baseline and its readings go unscored.
   */
  private async recalibrateForNewModel(
    device: DeviceWindow,
    stale: ActiveBaseline,
  ): Promise<ActiveBaseline | undefined> {
    const { useCase, deviceId } = device;
    const readings = await this.reader.readings(
      useCase,
      deviceId,
      { from: stale.calibratedFrom, to: stale.calibratedUntil },
      stale.baseline.rows,
    );
    if (readings.length < stale.baseline.rows) return undefined;
    const baseline = await this.calibrate(device, readings);
    if (!baseline) return undefined;
    for (let attempt = 1; attempt <= this.maxConflicts; attempt++) {
      const stored = await this.baselines.get(useCase, deviceId);
      if (!stored?.active || stored.calibration) return undefined;
      // Another instance did it first.
      if (stored.active.version !== stale.version) return stored.active;
      const active: ActiveBaseline = {
        ...stale,
        version: stale.version + 1,
        baseline,
        reason: 'model-changed',
        note: `recalibrated for model ${baseline.modelVersion} on the readings of version ${stale.version}`,
        requestedBy: SYSTEM,
        activatedAt: this.clock.now(),
      };
      if (await this.baselines.save({ ...stored, revision: stored.revision + 1, active })) return active;
    }
    return undefined;
  }

  private async calibrate(
    device: DeviceWindow,
    readings: readonly TelemetryRecord[],
  ): Promise<DeviceBaseline | undefined> {
    const outcome = await this.scoreWindow({
      sensors: device.window.sensors,
      rows: this.windows.rowsOf(readings),
      scoreFrom: readings.length,
      calibrate: true,
    });
    return outcome.status === 'scored' ? outcome.result.baseline : undefined;
  }

  /** Scores a window; the model's answer says how much history the next windows carry. */
  private async scoreWindow(window: ScoringWindow): Promise<ScoringOutcome> {
    const outcome = await this.scorer.score(window);
    if (outcome.status === 'scored') this.windows.followModel(outcome.result.history);
    return outcome;
  }

  /** The window restricted to `count` new readings from `offset`, with the history before them. */
  private subWindow(device: DeviceWindow, offset: number, count: number): ScoringWindow {
    const { window } = device;
    return {
      sensors: window.sensors,
      rows: window.rows.slice(0, window.scoreFrom + offset + count),
      scoreFrom: window.scoreFrom + offset,
    };
  }

  /**
   * Brings the device's state up to date with this batch: commissions an unknown device, counts
   * calibration progress and completes a calibration that has its readings. Retries on conflict.
   * `completing` is called when a calibration starts completing: the state will take a while.
   */
  private async advance(
    device: DeviceWindow,
    budget: CalibrationBudget,
    completing: () => void,
  ): Promise<BaselineState> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.baselines.get(device.useCase, device.deviceId);
      const next = await this.nextState(stored, device, budget, completing);
      if (next === stored) return next;
      if (await this.baselines.save(next)) return next;
      if (attempt >= this.maxConflicts) {
        throw new Error(
          `device ${device.useCase}/${device.deviceId}: baseline state changed under ${attempt} attempts in a row`,
        );
      }
    }
  }

  private async nextState(
    stored: BaselineState | undefined,
    device: DeviceWindow,
    budget: CalibrationBudget,
    completing: () => void,
  ): Promise<BaselineState> {
    const { useCase, deviceId, records } = device;
    const first = records[0]?.time ?? this.clock.now();
    const state: BaselineState = stored ?? {
      useCase,
      deviceId,
      revision: 0,
      calibration: {
        since: first,
        reason: 'commissioning',
        note: 'first readings of the device',
        requestedBy: SYSTEM,
        requestedAt: this.clock.now(),
        collected: 0,
      },
    };
    if (!state.calibration) return state;
    // A request "from now on" starts with this batch.
    const pending = { ...state.calibration, since: state.calibration.since ?? first };
    const changed = pending.since !== state.calibration.since;
    const fresh = records.filter((r) => r.time >= pending.since).length;
    const collected = pending.collected + fresh;
    const target = this.target(useCase);
    // Short of its readings, or past this batch's calibrations: it goes on calibrating.
    if (collected < target || budget.left <= 0) {
      return fresh === 0 && stored && !changed
        ? stored
        : { ...state, revision: state.revision + 1, calibration: { ...pending, collected } };
    }
    budget.left -= 1;
    completing();
    const readings = await this.reader.readings(useCase, deviceId, { from: pending.since }, target);
    if (readings.length < target) {
      // Counted more than the store holds yet (a redelivered batch): wait for the store.
      return {
        ...state,
        revision: state.revision + 1,
        calibration: { ...pending, collected: readings.length },
      };
    }
    const baseline = await this.calibrate(device, readings);
    if (!baseline) {
      // The endpoint is unavailable: stay calibrating, with the count kept, and try again with the
      // next batch.
      return { ...state, revision: state.revision + 1, calibration: { ...pending, collected } };
    }
    return {
      useCase,
      deviceId,
      revision: state.revision + 1,
      active: {
        version: (state.active?.version ?? 0) + 1,
        baseline,
        calibratedFrom: readings[0]?.time ?? pending.since,
        calibratedUntil: readings[readings.length - 1]?.time ?? pending.since,
        reason: pending.reason,
        note: pending.note,
        requestedBy: pending.requestedBy,
        activatedAt: this.clock.now(),
      },
    };
  }
}
