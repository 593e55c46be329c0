import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/usecase/manifest.ts';
import { loadUseCases } from '../../usecases/catalog.ts';
import { repoUseCase } from '../support/catalog.ts';
import { pipelineStack, testApp, LIVE_ANALYTICS } from '../support/cdk.ts';
import { repoContracts } from '../support/contracts.ts';

const template = Template.fromStack(pipelineStack(testApp(), LIVE_ANALYTICS));

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
      repoContracts,
    );
    const two = Template.fromStack(
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
        useCases: [...manifests, second],
      }),
    );
    // an ingest rule, an edge health rule and a rule keeping the last health report per use case,
    // and the fleet's one rule that retires replaced certificates
    two.resourceCountIs('AWS::IoT::TopicRule', 3 * (manifests.length + 1) + 1);
    // telemetry and inferences per use case
    two.resourceCountIs('AWS::Timestream::Table', 2 * (manifests.length + 1));
    // the second use case gets its own retention, its own rule on its own topic, its own function
    two.hasResourceProperties('AWS::Timestream::Table', {
      RetentionProperties: {
        MemoryStoreRetentionPeriodInHours: '12',
        MagneticStoreRetentionPeriodInDays: '30',
      },
    });
    two.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: Match.stringLikeRegexp("FROM 'dt/second-line/\\+/telemetry'"),
      }),
    });
    two.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ USE_CASE: 'second-line', MAX_RECORD_AGE_DAYS: '30' }),
      },
    });
  });

  it('refuses an empty or repeated list of use cases, naming the problem', () => {
    expect(() =>
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
        useCases: [],
      }),
    ).toThrow('PipelineStack needs at least one use-case manifest, got none');
    const pump = repoUseCase('pump-maintenance');
    expect(() =>
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
        useCases: [pump, pump],
      }),
    ).toThrow('use case "pump-maintenance" is given twice');
  });

  it('scores on the endpoint once a model artifact is given: env, InvokeEndpoint grant, inferences table', () => {
    const scored = Template.fromStack(
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
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
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Validates and stores') },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    expect(fn?.Properties.Environment.Variables).toHaveProperty('USE_CASE');
    expect(fn?.Properties.Environment.Variables.ENDPOINT_NAME).toBeUndefined();
  });

  describe('outputs what a device and an analyst need, pointing at the right resources', () => {
    const outputs = Object.values(template.findOutputs('*')) as { Description: string; Value: unknown }[];
    const valueOf = (description: string) =>
      outputs.find((o) => o.Description.startsWith(description))?.Value;
    /** The type of the resource a `{ Ref }` names. */
    const typeOf = (value: unknown) => {
      const logicalId = (value as { Ref?: string } | undefined)?.Ref ?? '';
      return (template.toJSON() as { Resources: Record<string, { Type: string }> }).Resources[logicalId]
        ?.Type;
    };

    it('the Basic Ingest topic of the ingest rule, with the thing to fill in', () => {
      const value = valueOf('Topic a pump-maintenance device publishes to') as {
        'Fn::Join': [string, unknown[]];
      };
      const [, parts] = value['Fn::Join'];
      expect(parts[0]).toBe('$aws/rules/');
      expect(typeOf(parts[1])).toBe('AWS::IoT::TopicRule');
      expect(parts[2]).toBe('/dt/pump-maintenance/<thing>/telemetry');
    });

    it('the device policy, the rule name for the agent, and the Timestream database', () => {
      expect(typeOf(valueOf('IoT policy to attach to each pump-maintenance'))).toBe('AWS::IoT::Policy');
      expect(typeOf(valueOf("Rule name for the edge agent's --rule-name"))).toBe('AWS::IoT::TopicRule');
      expect(typeOf(valueOf('Timestream database of pump-maintenance'))).toBe('AWS::Timestream::Database');
      expect(typeOf(valueOf('Quarantined messages'))).toBe('AWS::S3::Bucket');
    });
  });
});
