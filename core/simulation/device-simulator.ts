import type { DataContract } from '../contracts/contract.ts';
import type { UseCaseManifest } from '../usecase/manifest.ts';
import { ManifestSimulator } from './manifest-simulator.ts';
import { PUMP_TELEMETRY_V1, PumpSimulator } from './pump-simulator.ts';

/** A simulated device's sensors: what the simulated fleet, the local model and the benches read. */
export interface DeviceSimulator {
  /** The measures read at `time` (epoch ms), `dtSeconds` after the previous reading. */
  next(time: number, dtSeconds: number): Readonly<Record<string, number>>;
  /** Starts a fault (or, for a manifest's simulation, an operating practice) the manifest declares. */
  inject(faultId: string, time: number): void;
  /** Ends a started fault or practice: fixed, or changed by a recommendation. */
  stop(id: string): void;
  readonly faultIds: readonly string[];
  /** The fault a demonstration gives a device: one that shows within minutes. */
  readonly demoFaultId: string | undefined;
}

/** The simulated things of a use case: `<thingPrefix>-001`… (`pump-001` for the pumps). */
export function simulatedThingName(index: number, prefix = 'pump'): string {
  return `${prefix}-${String(index + 1).padStart(3, '0')}`;
}

/** The thing-name prefix of a use case's simulated devices. */
export function simulatedThingPrefix(manifest: Pick<UseCaseManifest, 'simulation'>): string {
  return manifest.simulation?.thingPrefix ?? 'pump';
}

/**
 * The simulator of one device of a use case: the manifest's `simulation` section, or, for the
 * pump contract, the hand-tuned pump simulator (and its faults) the alert calibration was measured with.
 */
export function deviceSimulator(
  manifest: Pick<UseCaseManifest, 'id' | 'simulation' | 'sensors'>,
  contract: DataContract,
  seed: number,
): DeviceSimulator {
  if (manifest.simulation) {
    const ranges: Record<string, { min: number; max: number }> = {};
    for (const [name, measure] of Object.entries(contract.measures))
      ranges[name] = { min: measure.min, max: measure.max };
    for (const sensor of manifest.sensors) ranges[sensor.field.replace(/^measures\./, '')] = sensor.range;
    const simulator = new ManifestSimulator({ spec: manifest.simulation, ranges, seed });
    return {
      next: (time, dt) => simulator.next(time, dt),
      inject: (faultId, time) => {
        simulator.inject(faultId, time);
      },
      stop: (id) => {
        simulator.stop(id);
      },
      faultIds: simulator.faultIds,
      demoFaultId: manifest.simulation.demoFault ?? simulator.faultIds[0],
    };
  }
  if (contract.id === PUMP_TELEMETRY_V1.id) {
    const pump = new PumpSimulator({ thing: 'simulated', seed });
    return {
      next: (time, dt) => pump.next(time, dt).measures,
      inject: (faultId, time) => {
        pump.inject(faultId, time);
      },
      stop: (faultId) => {
        pump.stop(faultId);
      },
      faultIds: pump.faultIds,
      // A step the model sees within a minute (bearing wear takes half an hour to show).
      demoFaultId: 'cavitation',
    };
  }
  throw new Error(
    `use case "${manifest.id}" has no simulation section: describe its devices in the manifest to simulate them (docs/new-use-case.md)`,
  );
}
