import { describe, expect, it } from 'vitest';
import { endpointSpecSchema, planEndpointUpdate } from '../../core/model/endpoint-spec.ts';
import { SPEC } from '../support/model-endpoint.ts';

describe('planEndpointUpdate', () => {
  it('GIVEN only a new image (any code change) THEN nothing that runs changes: the approved model stays', () => {
    const change = planEndpointUpdate(SPEC, { ...SPEC, Image: SPEC.Image.replace(/a+$/, 'b'.repeat(64)) });
    expect(change).toEqual({
      endpoint: 'same',
      model: 'live',
      changes: false,
      why: 'nothing that runs changed; the live model stays',
    });
  });

  it('GIVEN another role, other alarms or another initial count THEN nothing changes either', () => {
    const change = planEndpointUpdate(SPEC, {
      ...SPEC,
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/other',
      RollbackAlarmNames: ['errors'],
      InitialInstanceCount: 3,
    });
    expect(change.changes).toBe(false);
  });

  it('GIVEN new capture settings THEN the same endpoint is reconfigured with the live model', () => {
    expect(planEndpointUpdate(SPEC, { ...SPEC, CapturePercent: 5 })).toEqual({
      endpoint: 'same',
      model: 'live',
      changes: true,
      why: 'CapturePercent changed',
    });
  });

  it('GIVEN a new instance type THEN a new endpoint runs the live model', () => {
    const change = planEndpointUpdate(SPEC, {
      ...SPEC,
      EndpointName: 'aiot-inferencepump-1a2b3c4d-c5-xlarge',
      InstanceType: 'ml.c5.xlarge',
    });
    expect(change).toMatchObject({ endpoint: 'new', model: 'live', changes: true });
    expect(change.why).toBe('instance type ml.c5.large -> ml.c5.xlarge: a new endpoint');
  });

  it('GIVEN another artifact in the stack THEN that model is deployed: a person named it', () => {
    const change = planEndpointUpdate(SPEC, {
      ...SPEC,
      ModelDataUrl: 's3://artifacts/models/pump-maintenance/job-2/output/model.tar.gz',
    });
    expect(change).toMatchObject({ endpoint: 'same', model: 'artifact', changes: true });
  });

  it('refuses properties that are not an endpoint, naming the field', () => {
    const parsed = endpointSpecSchema.safeParse({
      ...SPEC,
      EndpointName: 'has spaces',
      ModelDataUrl: 's3://b/model.json',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'EndpointName: not a SageMaker endpoint name',
      'ModelDataUrl: not the S3 URL of a model.tar.gz',
    ]);
  });
});
