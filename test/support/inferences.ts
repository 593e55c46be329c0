import type { DeviceState, InferenceRecord } from '../../core/inference/inference-records.ts';

/**
 * Scripted scores of one device, one per second from `start` (epoch s): `A` anomalous (score 20
 * over threshold 10), `.` normal (score 2), `c` calibrating, `w` warming up.
 */
export function scripted(script: string, start = 0, device = 'p1', useCase = 'uc'): InferenceRecord[] {
  return Array.from(script.replace(/\s/g, ''), (symbol) => symbol).map((symbol, i) => {
    const deviceState: DeviceState =
      symbol === 'c' ? 'calibrating' : symbol === 'w' ? 'warming-up' : 'monitoring';
    const anomalous = symbol === 'A' || symbol === 'c' || symbol === 'w';
    return {
      useCase,
      deviceId: device,
      time: (start + i) * 1000,
      status: 'scored',
      score: anomalous ? 20 : 2,
      threshold: 10,
      // Calibrating and warming-up readings may score high but never carry the flag.
      anomalous: deviceState === 'monitoring' && anomalous,
      contributors: [{ sensor: 'flow', share: 0.8 }],
      modelVersion: 'm1',
      latencyMs: 1,
      skipReason: null,
      deviceState,
      baselineVersion: 1,
    };
  });
}

export const repeat = (symbol: string, count: number) => symbol.repeat(count);
