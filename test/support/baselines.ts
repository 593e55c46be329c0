import type { BaselineState } from '../../core/baseline/ports.ts';
import { SYSTEM } from '../../core/operators/actor.ts';

/** A device calibrating since its commissioning, `collected` readings in, at `revision`. */
export function calibratingBaseline(
  useCase: string,
  deviceId: string,
  collected: number,
  revision = 1,
): BaselineState {
  return {
    useCase,
    deviceId,
    revision,
    calibration: {
      since: 0,
      reason: 'commissioning',
      note: '',
      requestedBy: SYSTEM,
      requestedAt: 0,
      collected,
    },
  };
}
