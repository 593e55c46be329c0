import type { TelemetryMessage } from '../contracts/contract.ts';

/** A small seeded PRNG (mulberry32) so a simulated fleet is reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from a uniform source. */
export function gaussian(random: () => number): number {
  // Box-Muller; 1 - random() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

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

  constructor(private readonly options: PumpSimulatorOptions) {
    this.random = seededRandom(options.seed);
    this.nominalFlow = 30 + 5 * this.random();
    this.vibrationLevel = 0.024 + 0.012 * this.random();
    this.flow = this.nominalFlow;
    this.motorTemperature = 70 + 10 * this.random();
    this.fluidTemperature = 22 + 6 * this.random();
    this.firmware = options.firmware ?? '1.4.2';
    this.hardwareGeneration = options.hardwareGeneration ?? (this.random() < 0.5 ? 'gen2' : 'gen3');
  }

  /** The next reading, taken at `time` (epoch ms), `dtSeconds` after the previous one. */
  next(time: number, dtSeconds = 1): TelemetryMessage {
    const noise = () => gaussian(this.random);
    // Flow: mean-reverting random walk around the set point.
    this.flow += 0.05 * (this.nominalFlow - this.flow) * dtSeconds + 0.3 * noise();
    const load = this.flow / this.nominalFlow;
    const current = 1.3 * load + 0.02 * noise();
    const pressure = 0.35 + 0.6 * (load - 0.9) + 0.03 * noise();
    const steadyTemperature = 55 + 18 * current;
    this.motorTemperature +=
      (steadyTemperature - this.motorTemperature) * Math.min(1, dtSeconds / 600) + 0.05 * noise();
    this.fluidTemperature += 0.001 * dtSeconds * noise();
    const reading: TelemetryMessage = {
      contract: (this.options.contract ?? PUMP_TELEMETRY_V1).id,
      version: (this.options.contract ?? PUMP_TELEMETRY_V1).version,
      deviceId: this.options.thing,
      timestamp: new Date(time).toISOString(),
      seq: this.seq++,
      firmware: this.firmware,
      hardwareGeneration: this.hardwareGeneration,
      measures: {
        vibrationRmsX: Math.max(0, this.vibrationLevel * (1 + 0.08 * noise())),
        vibrationRmsY: Math.max(0, this.vibrationLevel * 1.4 * (1 + 0.08 * noise())),
        motorCurrent: Math.max(0, current),
        outletPressure: Math.max(-1, pressure),
        motorTemperature: this.motorTemperature,
        fluidTemperature: this.fluidTemperature,
        supplyVoltage: 232 + 2.5 * noise(),
        flowRate: Math.max(0, this.flow),
      },
    };
    return reading;
  }
}
