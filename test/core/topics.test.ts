import { describe, expect, it } from 'vitest';
import { applyIngestRule, ingestRuleSql } from '../../core/ingest/rule.ts';
import {
  authorizeDevicePublish,
  basicIngestTopic,
  healthTopic,
  parseTelemetryTopic,
  telemetryTopic,
} from '../../core/ingest/topics.ts';

const rules = new Map([['pump-maintenance', 'pump_ingest']]);

describe('device publish policy', () => {
  it.each([
    ['its own telemetry topic', telemetryTopic('pump-maintenance', 'pump-001')],
    ['its own Basic Ingest topic', basicIngestTopic('pump_ingest', 'pump-maintenance', 'pump-001')],
    ['its own health topic', healthTopic('pump-maintenance', 'pump-001')],
  ])('lets a thing publish to %s', (_name, topic) => {
    expect(authorizeDevicePublish('pump-001', topic, rules)).toEqual({ allowed: true });
  });

  it.each([
    [
      'another thing',
      'dt/pump-maintenance/pump-002/telemetry',
      'thing "pump-001" may not publish as "pump-002"',
    ],
    [
      'another thing via Basic Ingest',
      '$aws/rules/pump_ingest/dt/pump-maintenance/pump-002/telemetry',
      'may not publish as "pump-002"',
    ],
    [
      'another rule',
      '$aws/rules/other/dt/pump-maintenance/pump-001/telemetry',
      'rule "other" does not serve',
    ],
    ['an unknown use case', 'dt/hvac/pump-001/telemetry', 'unknown use case "hvac"'],
    ['health as another thing', 'dt/pump-maintenance/pump-002/health', 'may not report health as "pump-002"'],
    ['health of an unknown use case', 'dt/hvac/pump-001/health', 'unknown use case "hvac"'],
    ['a non-telemetry topic', 'dt/pump-maintenance/pump-001/commands', 'is not a telemetry topic'],
    ['a wildcard-like deeper topic', 'dt/pump-maintenance/pump-001/telemetry/x', 'is not a telemetry topic'],
  ])('refuses %s', (_name, topic, reason) => {
    const decision = authorizeDevicePublish('pump-001', topic, rules);
    expect(decision.allowed).toBe(false);
    expect(decision.allowed ? '' : decision.reason).toContain(reason);
  });

  it('parses both topic forms to the same thing', () => {
    expect(parseTelemetryTopic('dt/pump-maintenance/pump-001/telemetry')).toEqual({
      useCase: 'pump-maintenance',
      thing: 'pump-001',
    });
    expect(parseTelemetryTopic('$aws/rules/r/dt/pump-maintenance/pump-001/telemetry')).toEqual({
      ruleName: 'r',
      useCase: 'pump-maintenance',
      thing: 'pump-001',
    });
  });
});

describe('ingest rule', () => {
  it('selects the payload, the thing from the topic, the client id and the broker timestamp', () => {
    expect(ingestRuleSql('pump-maintenance')).toBe(
      "SELECT encode(*, 'base64') AS payload, topic() AS topic, topic(3) AS thing, clientid() AS clientId, " +
        "timestamp() AS receivedAt FROM 'dt/pump-maintenance/+/telemetry'",
    );
  });

  it('evaluates locally as IoT Core does, without the Basic Ingest prefix in topic()', () => {
    const message = applyIngestRule({
      topic: '$aws/rules/pump_ingest/dt/pump-maintenance/pump-007/telemetry',
      payload: new TextEncoder().encode('{"a":1}'),
      clientId: 'pump-007',
      receivedAt: 42,
    });
    expect(message).toEqual({
      payload: btoa('{"a":1}'),
      topic: 'dt/pump-maintenance/pump-007/telemetry',
      thing: 'pump-007',
      clientId: 'pump-007',
      receivedAt: 42,
    });
  });
});
