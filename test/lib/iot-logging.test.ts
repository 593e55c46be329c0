import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { IotLogging } from '../../lib/constructs/iot-logging.ts';
import { constructHarness, pipelineStack, testApp } from '../support/cdk.ts';

describe('IoT Core logging', () => {
  it('GIVEN the default stack THEN IoT Core logs errors with a role only IoT of this account assumes, into a log group that expires', () => {
    const template = Template.fromStack(pipelineStack(testApp()));
    template.hasResourceProperties('AWS::IoT::Logging', {
      DefaultLogLevel: 'ERROR',
      AccountId: { Ref: 'AWS::AccountId' },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Lets AWS IoT Core write its own log group',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'iot.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
    template.hasResourceProperties('Custom::LogRetention', {
      LogGroupName: 'AWSIotLogsV2',
      RetentionInDays: 365,
    });
  });

  it('GIVEN -c iotLogging=false THEN the stack leaves the account setting alone', () => {
    Template.fromStack(pipelineStack(testApp(), { iotLogging: false })).resourceCountIs(
      'AWS::IoT::Logging',
      0,
    );
  });

  it('refuses a level IoT Core does not have, naming it', () => {
    const { stack } = constructHarness();
    expect(() => new IotLogging(stack, 'Logs', { level: 'TRACE' as 'ERROR' })).toThrow(
      'level must be one of ERROR, WARN, INFO, DEBUG, got "TRACE"',
    );
  });
});
