import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DeviceTelemetryPolicy } from '../../lib/constructs/device-policy.ts';
import { constructHarness } from '../support/cdk.ts';

describe('DeviceTelemetryPolicy', () => {
  it('lets a certificate connect only as its own attached thing and publish only its own telemetry', () => {
    // GIVEN a stack
    const { stack } = constructHarness();
    // WHEN the policy is created
    new DeviceTelemetryPolicy(stack, 'Policy', { useCase: 'pump-maintenance', ruleName: 'pump_rule' });
    // THEN it uses policy variables for the thing, in both topic forms
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IoT::Policy'));
    const document = JSON.stringify(stack.resolve(policy));
    const statements = (
      stack.resolve(policy) as {
        Properties: { PolicyDocument: { Statement: { Sid: string; Action: string; Condition?: unknown }[] } };
      }
    ).Properties.PolicyDocument.Statement;
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      ['ConnectAsOwnThing', 'iot:Connect'],
      ['PublishOwnTelemetry', 'iot:Publish'],
      ['PublishOwnHealth', 'iot:Publish'],
    ]);
    expect(statements[0]?.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    expect(document).toContain(':client/${iot:Connection.Thing.ThingName}');
    expect(document).toContain(':topic/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/telemetry');
    expect(document).toContain(
      ':topic/$aws/rules/pump_rule/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/telemetry',
    );
    expect(document).toContain(':topic/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/health');
    expect(document).not.toMatch(/iot:Subscribe|iot:Receive|"iot:\*"/);
  });

  it('refuses a use case that is not a topic-safe id', () => {
    const { stack } = constructHarness();
    expect(() => new DeviceTelemetryPolicy(stack, 'Policy', { useCase: 'Pump/#', ruleName: 'r' })).toThrow(
      'useCase must be lower-case kebab-case, got "Pump/#"',
    );
  });
});
