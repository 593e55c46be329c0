import { describe, expect, it } from 'vitest';
import { resolveEdgeSettings } from '../../core/edge/settings.ts';
import { EdgeAgent, type EdgeAgentOptions } from '../../edge/agent.ts';
import { pumpTelemetryV1 } from '../support/contracts.ts';

/** Options that would start an agent but for `overrides`; nothing connects when they are refused. */
const options = (overrides: Partial<EdgeAgentOptions>): EdgeAgentOptions => ({
  identity: { thing: 'pump-001', firmware: '2.0.0', hardwareGeneration: 'gen3' },
  contract: pumpTelemetryV1,
  settings: resolveEdgeSettings(undefined, 'pump-001'),
  connection: {
    url: 'mqtts://localhost:1',
    ca: '',
    cert: '',
    key: '',
    topic: 'dt/pump-maintenance/pump-001/telemetry',
    healthTopic: 'dt/pump-maintenance/pump-001/health',
  },
  dataDir: '/nonexistent',
  ...overrides,
});

describe('edge agent options', () => {
  it.each([
    [{ firstPackWaitShare: 1.5 }, 'firstPackWaitShare must be from 0 to 1, got 1.5'],
    [{ firstPackWaitShare: -0.1 }, 'firstPackWaitShare must be from 0 to 1, got -0.1'],
    [{ firstPackWaitShare: Number.NaN }, 'firstPackWaitShare must be from 0 to 1, got NaN'],
    [{ packWaitMs: -1 }, 'packWaitMs must be 0 or more, got -1'],
    [{ maxSendRate: 0 }, 'maxSendRate must be above 0, got 0'],
  ] as const)('GIVEN %o THEN the agent refuses to start, naming the option and the value', (bad, message) => {
    expect(() => EdgeAgent.start(options(bad))).toThrow(message);
  });
});
