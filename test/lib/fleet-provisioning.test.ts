import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FleetProvisioning } from '../../lib/constructs/fleet-provisioning.ts';
import { CLAIM_CLIENT_ID_PREFIX, provisioningTemplateBody } from '../../core/provisioning/claim.ts';
import { constructHarness } from '../support/cdk.ts';

function build(devicePolicies = new Map([['pump-maintenance', 'PumpPolicy']])) {
  const { stack, key } = constructHarness();
  const provisioning = new FleetProvisioning(stack, 'Provisioning', { devicePolicies, encryptionKey: key });
  return { stack, provisioning, template: Template.fromStack(stack) };
}

interface Statement {
  Sid: string;
  Action: string;
  Resource: unknown;
}

describe('FleetProvisioning', () => {
  it('GIVEN use cases THEN a fleet provisioning template registers devices through the allow-list hook, with the body the hook fills', () => {
    const { template, stack } = build();
    const [hookId] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('pre-provisioning hook') },
      }),
    );
    template.hasResourceProperties('AWS::IoT::ProvisioningTemplate', {
      Enabled: true,
      TemplateType: 'FLEET_PROVISIONING',
      TemplateBody: JSON.stringify(provisioningTemplateBody()),
      PreProvisioningHook: { TargetArn: { 'Fn::GetAtt': [hookId, 'Arn'] }, PayloadVersion: '2020-04-01' },
    });
    // The hook answers within IoT Core's 5 s and knows each use case's policy.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('pre-provisioning hook'),
      Timeout: 5,
      Environment: {
        Variables: Match.objectLike({
          DEVICE_POLICIES: '{"pump-maintenance":"PumpPolicy"}',
          STACK_NAME: stack.stackName,
        }),
      },
    });
    // Only IoT of this account, for provisioning templates, may invoke it; the template waits for that.
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'iot.amazonaws.com', SourceAccount: { Ref: 'AWS::AccountId' } },
    });
    const [permissionId] = Object.keys(permissions);
    expect(JSON.stringify(permissions)).toContain(':provisioningtemplate/*');
    template.hasResource('AWS::IoT::ProvisioningTemplate', { DependsOn: Match.arrayWith([permissionId]) });
  });

  it('GIVEN a claim certificate THEN its policy lets it ask for an identity and nothing else, under a client id no thing has', () => {
    const { template, stack } = build();
    const [policy] = Object.values(template.findResources('AWS::IoT::Policy'));
    const statements = (
      stack.resolve(policy) as { Properties: { PolicyDocument: { Statement: Statement[] } } }
    ).Properties.PolicyDocument.Statement;
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      ['ConnectToProvisionOnly', 'iot:Connect'],
      ['AskForAnIdentity', 'iot:Publish'],
      ['HearTheAnswer', 'iot:Receive'],
      ['SubscribeToTheAnswer', 'iot:Subscribe'],
    ]);
    const document = JSON.stringify(statements);
    expect(document).toContain(`:client/${CLAIM_CLIENT_ID_PREFIX}*`);
    expect(document).toContain(':topic/$aws/certificates/create-from-csr/json"');
    expect(document).toContain('/provision/json"');
    // No telemetry, no wildcard action, no topic outside provisioning.
    expect(document).not.toMatch(/dt\/|iot:\*|"\*"/);
  });

  it('GIVEN the allow-list THEN it is encrypted with the key, recoverable, kept when the stack goes, and the hook may only read and mark it', () => {
    const { template } = build();
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'serialNumber', KeyType: 'HASH' }],
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('"dynamodb:GetItem","dynamodb:UpdateItem"');
    expect(policies).not.toMatch(/dynamodb:(PutItem|DeleteItem|Scan|\*)/);
    expect(policies).toContain(':thinggroup/Harness-*');
  });

  it('GIVEN renewed certificates THEN a rule on dt/+/+/certificate hands who connected with which certificate to a Lambda that may only retire certificates', () => {
    const { template } = build();
    const [retireId] = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('Retires the certificate') },
      }),
    );
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: "SELECT serialNumber, clientid() AS thing, principal() AS certificateId FROM 'dt/+/+/certificate'",
        Actions: [{ Lambda: { FunctionArn: { 'Fn::GetAtt': [retireId, 'Arn'] } } }],
        ErrorAction: { CloudwatchLogs: Match.anyValue() },
      }),
    });
    // The hook and the rule's Lambda may deactivate and detach certificates, and nothing more of IoT.
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p));
    const retiring = policies.filter((p) => p.includes('iot:UpdateCertificate'));
    expect(retiring).toHaveLength(2);
    for (const policy of retiring) {
      // On certificates: IAM authorizes DetachThingPrincipal on the principal, not the thing.
      expect(policy).toContain(
        '"iot:DescribeCertificate","iot:DetachThingPrincipal","iot:UpdateCertificate"',
      );
      expect(policy).not.toMatch(/iot:(DeleteCertificate|AttachPolicy|CreateKeysAndCertificate|\*)/);
    }
  });

  it('GIVEN a removal policy THEN the allow-list takes it', () => {
    const { stack, key } = constructHarness();
    new FleetProvisioning(stack, 'P', {
      devicePolicies: new Map([['pump-maintenance', 'PumpPolicy']]),
      encryptionKey: key,
      allowListRemovalPolicy: RemovalPolicy.DESTROY,
    });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('refuses to build without use cases', () => {
    expect(() => build(new Map())).toThrow('FleetProvisioning needs at least one use case, got none');
  });
});
