import { trainAnomalyModel, type AnomalyModel } from '../core/model/anomaly-model.ts';
import { PumpSimulator } from '../core/simulation/pump-simulator.ts';

/** A simulated pump's sensors, in the order its readings name them. */
export const PUMP_SENSORS: readonly string[] = Object.keys(
  new PumpSimulator({ thing: 'x', seed: 1 }).next(0).measures,
);

/** `count` readings of a simulated pump, one a second, as rows in `sensors` order. */
export function pumpRows(
  thing: string,
  count: number,
  seed: number,
  sensors: readonly string[] = PUMP_SENSORS,
): number[][] {
  const pump = new PumpSimulator({ thing, seed });
  return Array.from({ length: count }, (_, i) => {
    const { measures } = pump.next(i * 1000);
    return sensors.map((sensor) => Number(measures[sensor]));
  });
}

/**
 * The model the benches score with: trained on three simulated pumps' 600 readings (training is
 * deterministic, so a bench's child process trains the same one).
 */
export function benchModel(sensors: readonly string[], modelVersion: string): AnomalyModel {
  const rows = [1, 2, 3].flatMap((seed) => pumpRows(`train-${seed}`, 600, seed, sensors));
  return trainAnomalyModel({ sensors: [...sensors], rows }, { modelVersion });
}
