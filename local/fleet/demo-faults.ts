import type { BaselineStore } from '../../core/baseline/ports.ts';

/** One device that is to develop a fault, and how to start it. */
export interface DemoFault {
  readonly useCase: string;
  readonly thing: string;
  readonly faultId: string;
  /** Starts the fault on the simulated device, from now on. */
  readonly inject: () => void;
}

export interface DemoFaultsOptions {
  readonly faults: readonly DemoFault[];
  readonly baselines: Pick<BaselineStore, 'get'>;
  /** How long after its calibration a device develops its fault. */
  readonly afterMs: number;
  /** @default 2000 */
  readonly checkEveryMs?: number;
  readonly onCalibrated?: (fault: DemoFault, faultAt: number) => void;
  readonly onInjected?: (fault: DemoFault) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * A demonstration of the closed loop for someone new: one simulated device of each use case
 * develops a fault a set time after its own calibration (never during it: a baseline calibrated
 * on a fault would take it for normal), so an alert opens that they can answer.
 */
export class DemoFaults {
  private readonly pending: Map<DemoFault, number | undefined>;
  private readonly timer: NodeJS.Timeout;
  private checking = false;

  constructor(private readonly options: DemoFaultsOptions) {
    this.pending = new Map(options.faults.map((fault) => [fault, undefined]));
    this.timer = setInterval(() => {
      void this.check();
    }, options.checkEveryMs ?? 2000);
    this.timer.unref();
  }

  /** Devices whose fault has not started yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Starts every fault that is due; answers once the checks of this round are done. */
  async check(now = Date.now()): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const [fault, faultAt] of [...this.pending]) {
        if (faultAt === undefined) {
          const state = await this.options.baselines.get(fault.useCase, fault.thing);
          if (!state?.active || state.calibration) continue;
          const at = now + this.options.afterMs;
          this.pending.set(fault, at);
          this.options.onCalibrated?.(fault, at);
          if (at > now) continue;
        } else if (faultAt > now) continue;
        fault.inject();
        this.pending.delete(fault);
        this.options.onInjected?.(fault);
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
