import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { awsSolutionsErrors, pipelineStack, testApp } from '../support/cdk.ts';

describe('cdk-nag AwsSolutions', () => {
  it.each(['influxdb', 'liveanalytics'] as const)(
    'passes on the whole pipeline stack with -c store=%s',
    (store) => {
      const app = testApp();
      pipelineStack(app, { telemetryStore: store });
      expect(awsSolutionsErrors(app)).toEqual([]);
    },
  );

  it.each(['influxdb', 'liveanalytics'] as const)(
    'passes with the inference endpoint deployed, store %s',
    (store) => {
      const app = testApp();
      pipelineStack(app, {
        telemetryStore: store,
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
      });
      expect(awsSolutionsErrors(app)).toEqual([]);
    },
  );

  it('does report a non-compliant resource (the check can fail)', () => {
    const app = testApp();
    new s3.Bucket(new Stack(app, 'Bad'), 'PlainBucket');
    expect(awsSolutionsErrors(app)).toEqual(
      expect.arrayContaining([{ rule: 'AwsSolutions-S1', path: 'Bad/PlainBucket/Resource' }]),
    );
  });
});
