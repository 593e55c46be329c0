import { statSync } from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/usecase/manifest.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { pipelineStack, testApp } from '../support/cdk.ts';

const template = Template.fromStack(pipelineStack());

describe('PipelineStack', () => {
  it('encrypts with a rotating customer managed key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('keeps quarantined data in a KMS-encrypted, TLS-only, access-logged, retained bucket', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'Quarantine/' }),
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('gives no resource a hard-coded physical name', () => {
    for (const [type, nameProperty] of [
      ['AWS::S3::Bucket', 'BucketName'],
      ['AWS::SQS::Queue', 'QueueName'],
      ['AWS::Lambda::Function', 'FunctionName'],
      ['AWS::Timestream::Database', 'DatabaseName'],
      ['AWS::IoT::TopicRule', 'RuleName'],
      ['AWS::IoT::Policy', 'PolicyName'],
      ['AWS::IAM::Role', 'RoleName'],
    ] as const) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(
          (resource as { Properties?: Record<string, unknown> }).Properties?.[nameProperty],
          `${type}.${nameProperty}`,
        ).toBeUndefined();
      }
    }
  });

  it('builds one ingestion path per manifest', () => {
    const dir = path.join(import.meta.dirname, '..', '..', 'usecases');
    const manifests = loadUseCases(dir);
    const second = parseManifest(
      `id: second-line\nname: n\ndescription: d\ncontract: pump.telemetry@1\nkpis:\n  - { id: kpi-a, description: d, baseline: { value: 1, unit: h }, target: -10%, measuredBy: m }\nsensors:\n  - { field: measures.flowRate, unit: l/min, range: { min: 0, max: 100 }, kpi: kpi-a }\nstorage: { memoryRetentionHours: 12, magneticRetentionDays: 30 }\n`,
      'second-line.yaml',
    );
    const two = Template.fromStack(pipelineStack(testApp(), { useCases: [...manifests, second] }));
    // an ingest rule and an edge health rule per use case
    two.resourceCountIs('AWS::IoT::TopicRule', 2 * (manifests.length + 1));
    // telemetry and inferences per use case
    two.resourceCountIs('AWS::Timestream::Table', 2 * (manifests.length + 1));
    two.hasResourceProperties('AWS::Timestream::Table', {
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: '12',
        MagneticStoreRetentionPeriodInDays: '30',
      },
    });
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('refuses an empty or repeated list of use cases, naming the problem', () => {
    expect(() => pipelineStack(testApp(), { useCases: [] })).toThrow(
      'PipelineStack needs at least one use-case manifest, got none',
    );
    const [pump] = loadUseCases();
    if (!pump) throw new Error('the pump manifest is missing');
    expect(() => pipelineStack(testApp(), { useCases: [pump, pump] })).toThrow(
      'use case "pump-maintenance" is given twice',
    );
  });

  it('scores on the endpoint once a model artifact is given: env, InvokeEndpoint grant, inferences table', () => {
    const scored = Template.fromStack(
      pipelineStack(testApp(), {
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/j/output/model.tar.gz' },
      }),
    );
    scored.hasResourceProperties('AWS::Timestream::Table', { TableName: 'inferences' });
    scored.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ENDPOINT_NAME: Match.anyValue(),
          MODEL_SENSORS:
            'vibrationRmsX,vibrationRmsY,motorCurrent,outletPressure,motorTemperature,fluidTemperature,supplyVoltage,flowRate',
          TIMESTREAM_INFERENCES_TABLE: 'inferences',
        }),
      },
    });
    const policies = JSON.stringify(scored.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('sagemaker:InvokeEndpoint');
    // Without an artifact there is no endpoint, so the function ingests without scoring.
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }[];
    expect(fn?.Properties.Environment.Variables.ENDPOINT_NAME).toBeUndefined();
  });

  it('outputs what a device and an analyst need', () => {
    const outputs = Object.values(template.findOutputs('*')).map(
      (o) => (o as { Description: string }).Description,
    );
    expect(outputs).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Topic a pump-maintenance device publishes to'),
        expect.stringContaining('IoT policy to attach'),
        expect.stringContaining('Timestream database of pump-maintenance'),
      ]),
    );
  });
});
