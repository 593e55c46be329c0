import { describe, expect, it } from 'vitest';
import { LISTENERS, planPorts } from '../../local/runtime/ports.ts';
import { DEFAULT_PORTS } from '../support/no-default-ports.mjs';

describe('the port plan of the local runtime', () => {
  it('GIVEN the defaults and two use cases with a model THEN every port is distinct and the model servers take free ones', () => {
    const plan = planPorts({}, ['hvac-energy', 'pump-maintenance']);
    expect(plan.all.map((p) => [p.what, p.port])).toEqual([
      ['the MQTT broker (mutual TLS)', 8883],
      ['the query API', 8884],
      ['the model server of hvac-energy', 0],
      ['the model server of pump-maintenance', 0],
      ['the operator console', 8886],
    ]);
  });

  it('GIVEN a first model port THEN each further use case takes the next one', () => {
    const plan = planPorts({ model: 9100 }, ['a', 'b', 'c']);
    expect([...plan.models]).toEqual([
      ['a', 9100],
      ['b', 9101],
      ['c', 9102],
    ]);
  });

  it('GIVEN a model port whose next one is the console default THEN it names both and their flags', () => {
    expect(() => planPorts({ model: 8885 }, ['hvac-energy', 'pump-maintenance'])).toThrow(
      'port 8886 would be taken twice, by the model server of pump-maintenance (--model-port) and the operator console (--console-port): move one of them (0 picks a free port)',
    );
  });

  it('GIVEN the same port for two listeners THEN it refuses before anything listens', () => {
    expect(() => planPorts({ mqtt: 9000, api: 9000 }, [])).toThrow(
      'port 9000 would be taken twice, by the MQTT broker (mutual TLS) (--mqtt-port) and the query API (--api-port)',
    );
  });

  it('GIVEN free ports everywhere THEN zeros may repeat', () => {
    const plan = planPorts({ mqtt: 0, api: 0, console: 0, model: 0 }, ['a', 'b']);
    expect(plan.all.every((p) => p.port === 0)).toBe(true);
  });

  it('GIVEN no console and no scoring THEN neither is planned', () => {
    const plan = planPorts({ console: false, model: false }, ['a']);
    expect(plan.all.map((p) => p.listener)).toEqual(['mqtt', 'api']);
    expect(plan.console).toBe(false);
    expect(plan.models.size).toBe(0);
  });

  it('GIVEN a port out of range THEN the message names the flag and the value', () => {
    expect(() => planPorts({ api: 70_000 }, [])).toThrow(
      '--api-port must be a whole number from 0 to 65535 (0: any free port), got 70000',
    );
    expect(() => planPorts({ model: 65_535 }, ['a', 'b'])).toThrow(
      '--model-port 65535 leaves no port for the model server of b (65536): pass a lower one, or 0 for free ports',
    );
  });

  it('GIVEN the test port guard THEN it knows every fixed default', () => {
    const fixed = Object.values(LISTENERS)
      .map((listener) => listener.default as number)
      .filter((port) => port !== 0);
    expect([...DEFAULT_PORTS].sort()).toEqual(fixed.sort());
  });
});
