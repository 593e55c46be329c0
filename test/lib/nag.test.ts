import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { awsSolutionsErrors, pipelineStack, testApp } from '../support/cdk.ts';

describe('cdk-nag AwsSolutions', () => {
  it('passes on the whole pipeline stack', () => {
    const app = testApp();
    pipelineStack(app);
    expect(awsSolutionsErrors(app)).toEqual([]);
  });

  it('passes with the inference endpoint deployed', () => {
    const app = testApp();
    pipelineStack(app, {
      modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
    });
    expect(awsSolutionsErrors(app)).toEqual([]);
  });

  it('does report a non-compliant resource (the check can fail)', () => {
    const app = testApp();
    new s3.Bucket(new Stack(app, 'Bad'), 'PlainBucket');
    expect(awsSolutionsErrors(app)).toEqual(
      expect.arrayContaining([{ rule: 'AwsSolutions-S1', path: 'Bad/PlainBucket/Resource' }]),
    );
  });
});
