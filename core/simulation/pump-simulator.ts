import type { TelemetryMessage } from '../contracts/contract.ts';
import { FaultInjector, type FaultSpec } from './faults.ts';
import { gaussian, seededRandom } from './random.ts';

export interface PumpSimulatorOptions {
  readonly thing: string;
  readonly seed: number;
  readonly firmware?: string;
  readonly hardwareGeneration?: string;
  /**
   * The contract version its messages claim; its readings are those of version 1, which every
   * later pump.telemetry version accepts. @default PUMP_TELEMETRY_V1
   */
  readonly contract?: { readonly id: string; readonly version: number };
}

/** What a simulated pump says it speaks unless told otherwise (contracts/pump.telemetry.v1.yaml). */
export const PUMP_TELEMETRY_V1 = { id: 'pump.telemetry', version: 1 } as const;

/**
 * What goes wrong with a centrifugal pump, as the sensors see it; the faults the pipeline exists to
 * catch (usecases/pump-maintenance.yaml). Sizes are relative to a healthy simulated pump: vibration
 * around 0.03 g with 8% noise, flow around 32 l/min, outlet pressure around 0.4 bar.
 */
export const PUMP_FAULTS: readonly FaultSpec[] = [
  {
    id: 'bearing-wear',
    description: 'A worn bearing: vibration grows over hours and friction warms the motor.',
    effects: [
      { measure: 'vibrationRmsX', driftPerHour: 0.005, maxDrift: 0.06 },
      { measure: 'vibrationRmsY', driftPerHour: 0.007, maxDrift: 0.08 },
      { measure: 'motorTemperature', driftPerHour: 0.5, maxDrift: 8 },
    ],
  },
  {
    id: 'cavitation',
    description:
      'Too little pressure at the inlet: vapour bubbles collapse on the impeller, the outlet pressure falls and fluctuates, vibration turns rough.',
    effects: [
      { measure: 'outletPressure', offset: -0.06, noise: 0.04 },
      { measure: 'vibrationRmsX', noise: 0.004 },
      { measure: 'vibrationRmsY', noise: 0.006 },
      { measure: 'flowRate', scale: 0.97 },
    ],
  },
  {
    id: 'blocked-inlet',
    description:
      'A strainer clogging over hours: less flow for the same speed, the motor draws less current, the outlet pressure falls.',
    effects: [
      { measure: 'flowRate', driftPerHour: -2, maxDrift: 8 },
      { measure: 'motorCurrent', driftPerHour: -0.08, maxDrift: 0.3 },
      { measure: 'outletPressure', driftPerHour: -0.04, maxDrift: 0.16 },
    ],
  },
];

/** The lowest value each pump sensor can report (contracts/pump.telemetry.v1.yaml). */
const SENSOR_FLOOR: Readonly<Record<string, number>> = {
  vibrationRmsX: 0,
  vibrationRmsY: 0,
  motorCurrent: 0,
  outletPressure: -1,
  supplyVoltage: 0,
  flowRate: 0,
};

/**
 * One centrifugal pump in normal operation, coherent enough for dashboards and models: flow
 * wanders around its set point, current and pressure follow flow, the motor heats with current
 * through a first-order lag, vibration is noisy around a pump-specific level.
 */
export class PumpSimulator {
  private readonly random: () => number;
  private seq = 0;
  private flow: number;
  private motorTemperature: number;
  private fluidTemperature: number;
  private readonly nominalFlow: number;
  private readonly vibrationLevel: number;
  private readonly firmware: string;
  private readonly hardwareGeneration: string;
  private readonly faults: FaultInjector;

  constructor(private readonly options: PumpSimulatorOptions) {
    this.random = seededRandom(options.seed);
    // Its own stream: a faulty pump is the same pump as the healthy one, plus the fault.
    this.faults = new FaultInjector(PUMP_FAULTS, seededRandom(options.seed ^ 0x5bd1e995));
    this.nominalFlow = 30 + 5 * this.random();
    this.vibrationLevel = 0.024 + 0.012 * this.random();
    this.flow = this.nominalFlow;
    this.motorTemperature = 70 + 10 * this.random();
    this.fluidTemperature = 22 + 6 * this.random();
    this.firmware = options.firmware ?? '1.4.2';
    this.hardwareGeneration = options.hardwareGeneration ?? (this.random() < 0.5 ? 'gen2' : 'gen3');
  }

  get faultIds(): string[] {
    return this.faults.faultIds;
  }

  /** Starts one of PUMP_FAULTS at `time` (epoch ms); it lasts from then on. */
  inject(faultId: string, time: number): void {
    this.faults.inject(faultId, time);
  }

  /** Ends a started fault: the pump was repaired. */
  stop(faultId: string): void {
    this.faults.stop(faultId);
  }

  /** The next reading, taken at `time` (epoch ms), `dtSeconds` after the previous one. */
  next(time: number, dtSeconds = 1): TelemetryMessage {
    const noise = () => gaussian(this.random);
    // Flow: mean-reverting random walk around the set point. The pull is capped at the whole gap,
    // so a step of a minute (bench:mv's pumps) settles instead of overshooting without bound.
    this.flow += Math.min(1, 0.05 * dtSeconds) * (this.nominalFlow - this.flow) + 0.3 * noise();
    const load = this.flow / this.nominalFlow;
    const current = 1.3 * load + 0.02 * noise();
    const pressure = 0.35 + 0.6 * (load - 0.9) + 0.03 * noise();
    const steadyTemperature = 55 + 18 * current;
    this.motorTemperature +=
      (steadyTemperature - this.motorTemperature) * Math.min(1, dtSeconds / 600) + 0.05 * noise();
    this.fluidTemperature += 0.001 * dtSeconds * noise();
    const measures: Record<string, number> = {
      vibrationRmsX: Math.max(0, this.vibrationLevel * (1 + 0.08 * noise())),
      vibrationRmsY: Math.max(0, this.vibrationLevel * 1.4 * (1 + 0.08 * noise())),
      motorCurrent: Math.max(0, current),
      outletPressure: Math.max(-1, pressure),
      motorTemperature: this.motorTemperature,
      fluidTemperature: this.fluidTemperature,
      supplyVoltage: 232 + 2.5 * noise(),
      flowRate: Math.max(0, this.flow),
    };
    if (this.faults.active)
      for (const [name, value] of Object.entries(measures)) {
        const faulted = this.faults.apply(name, value, time);
        measures[name] = Math.max(SENSOR_FLOOR[name] ?? Number.NEGATIVE_INFINITY, faulted);
      }
    return {
      contract: (this.options.contract ?? PUMP_TELEMETRY_V1).id,
      version: (this.options.contract ?? PUMP_TELEMETRY_V1).version,
      deviceId: this.options.thing,
      timestamp: new Date(time).toISOString(),
      seq: this.seq++,
      firmware: this.firmware,
      hardwareGeneration: this.hardwareGeneration,
      measures,
    };
  }
}
