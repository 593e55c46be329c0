import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pipelineStack, testApp } from '../support/cdk.ts';

interface TrustStatement {
  readonly Principal?: { readonly Service?: string | string[] };
  readonly Condition?: Record<string, Record<string, unknown>>;
}

describe('service role trust policies', () => {
  it('GIVEN the roles IoT, the scheduler and SageMaker assume THEN each admits them only on behalf of this account, IoT only for rules and provisioning templates (but its logging, which is account-wide)', () => {
    const template = Template.fromStack(
      pipelineStack(testApp(), {
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
      }),
    );
    const roles = Object.values(template.findResources('AWS::IAM::Role')) as {
      Properties: { Description?: string; AssumeRolePolicyDocument: { Statement: TrustStatement[] } };
    }[];
    const trusts = roles.flatMap((role) => role.Properties.AssumeRolePolicyDocument.Statement);
    const ruleTrusts = roles
      .filter((role) => role.Properties.Description !== 'Lets AWS IoT Core write its own log group')
      .flatMap((role) => role.Properties.AssumeRolePolicyDocument.Statement);
    const of = (service: string) =>
      trusts.filter((s) => [s.Principal?.Service ?? []].flat().includes(service));
    for (const service of ['iot.amazonaws.com', 'scheduler.amazonaws.com', 'sagemaker.amazonaws.com']) {
      const statements = of(service);
      expect(statements.length, service).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.Condition?.StringEquals?.['aws:SourceAccount'], service).toEqual({
          Ref: 'AWS::AccountId',
        });
      }
    }
    for (const statement of ruleTrusts.filter((s) =>
      [s.Principal?.Service ?? []].flat().includes('iot.amazonaws.com'),
    )) {
      expect(JSON.stringify(statement.Condition?.ArnLike?.['aws:SourceArn'])).toMatch(
        /:(rule|provisioningtemplate)\/\*/,
      );
    }
  });
});

describe('IoT rules', () => {
  it('GIVEN every topic rule of the stack THEN each has an error action: nothing it fails to deliver vanishes', () => {
    const template = Template.fromStack(pipelineStack(testApp()));
    const rules = Object.entries(template.findResources('AWS::IoT::TopicRule')) as [
      string,
      { Properties: { TopicRulePayload: { ErrorAction?: unknown } } },
    ][];
    expect(rules.length).toBeGreaterThanOrEqual(3);
    expect(
      rules.filter(([, r]) => r.Properties.TopicRulePayload.ErrorAction === undefined).map(([id]) => id),
    ).toEqual([]);
  });
});
