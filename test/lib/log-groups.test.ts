import { Aspects, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { limitGrantsToAwsServices } from '../../lib/grants.ts';
import { EncryptAndExpireLogGroups } from '../../lib/log-groups.ts';
import { testApp } from '../support/cdk.ts';

describe('log groups and keys', () => {
  it('GIVEN log groups with and without settings WHEN the aspect runs THEN the bare one gets a year and the key, the other keeps its own', () => {
    const stack = new Stack(testApp(), 'Logs');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const own = new kms.Key(stack, 'OwnKey', { enableKeyRotation: true });
    // As services' log groups come: no retention, no key (a CDK helper's, or an L1).
    new logs.CfnLogGroup(stack, 'Bare', {});
    new logs.LogGroup(stack, 'Set', { retention: logs.RetentionDays.ONE_WEEK, encryptionKey: own });
    Aspects.of(stack).add(new EncryptAndExpireLogGroups(key));

    const template = Template.fromStack(stack);

    const groups = template.findResources('AWS::Logs::LogGroup');
    const byId = (prefix: string) =>
      Object.entries(groups).find(([id]) => id.startsWith(prefix))?.[1] as {
        Properties: Record<string, unknown>;
      };
    expect(byId('Bare').Properties).toEqual({
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/) as unknown, 'Arn'] },
    });
    expect(byId('Set').Properties).toEqual({
      RetentionInDays: 7,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^OwnKey/) as unknown, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchLogsEncryptsLogGroups',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('GIVEN a key WHEN grants are limited THEN only AWS services may create grants on it', () => {
    const stack = new Stack(testApp(), 'Keys');
    limitGrantsToAwsServices(new kms.Key(stack, 'Key', { enableKeyRotation: true }));

    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'GrantsOnlyForAwsResources',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'kms:CreateGrant',
            Resource: '*',
            Condition: {
              BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
            },
          },
        ]),
      },
    });
  });
});
