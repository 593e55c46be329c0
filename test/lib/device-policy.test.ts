import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DeviceTelemetryPolicy } from '../../lib/constructs/device-policy.ts';
import { constructHarness } from '../support/cdk.ts';

describe('DeviceTelemetryPolicy', () => {
  it('lets a certificate connect only as its own attached thing, publish only its own telemetry and renew its own certificate', () => {
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
      ['RenewOwnCertificate', 'iot:Publish'],
      ['HearRenewalAnswers', 'iot:Receive'],
      ['SubscribeToRenewalAnswers', 'iot:Subscribe'],
    ]);
    expect(statements[0]?.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    expect(document).toContain(':client/${iot:Connection.Thing.ThingName}');
    expect(document).toContain(':topic/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/telemetry');
    expect(document).toContain(
      ':topic/$aws/rules/pump_rule/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/telemetry',
    );
    expect(document).toContain(':topic/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/health');
    expect(document).not.toContain('"iot:*"');
    // It hears only the answers of provisioning: no other topic, no wildcard filter of its own.
    const listening = statements.filter((s) => s.Action !== 'iot:Publish' && s.Action !== 'iot:Connect');
    expect(JSON.stringify(stack.resolve(listening))).toMatch(/^(?:(?!topic(?:filter)?\/dt\/).)*$/);
    expect(JSON.stringify(stack.resolve(listening)).match(/topic(?:filter)?\/[^"]+/g)).toEqual([
      'topic/$aws/certificates/create-from-csr/json/*',
      'topic/$aws/provisioning-templates/*/provision/json/*',
      'topicfilter/$aws/certificates/create-from-csr/json/*',
      'topicfilter/$aws/provisioning-templates/*/provision/json/*',
    ]);
    expect(document).toContain(':topic/dt/pump-maintenance/${iot:Connection.Thing.ThingName}/certificate');
  });

  it('refuses a use case that is not a topic-safe id', () => {
    const { stack } = constructHarness();
    expect(() => new DeviceTelemetryPolicy(stack, 'Policy', { useCase: 'Pump/#', ruleName: 'r' })).toThrow(
      'useCase must be lower-case kebab-case, got "Pump/#"',
    );
  });
});
