import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import type { PipelineStackProps } from '../../lib/stacks/pipeline-stack.ts';
import { loadCatalog } from '../../usecases/catalog.ts';
import { LIVE_ANALYTICS, pipelineStack, testApp } from '../support/cdk.ts';

/**
 * Updates as a deployment meets them: the template before and after a typical change, compared
 * with the CDK's own diff (what `cdk diff` prints), must replace or delete no resource that holds
 * data or identity. A replaced table, bucket, key, user pool or InfluxDB instance is a new empty
 * one, and with RETAIN the old one is left behind without a word.
 */
const STATEFUL = new Set([
  'AWS::Timestream::InfluxDBInstance',
  'AWS::Timestream::Database',
  'AWS::Timestream::Table',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::Cognito::UserPool',
  'AWS::SecretsManager::Secret',
  'AWS::SageMaker::ModelPackageGroup',
  'AWS::CloudTrail::Trail',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  // Where the approved model runs: a replaced model or configuration puts the template's back.
  'AWS::SageMaker::Model',
  'AWS::SageMaker::EndpointConfig',
  'AWS::SageMaker::Endpoint',
  'Custom::AiotModelEndpoint',
]);
const LOSES = new Set<ResourceImpact>([
  ResourceImpact.WILL_REPLACE,
  ResourceImpact.MAY_REPLACE,
  ResourceImpact.WILL_DESTROY,
  ResourceImpact.WILL_ORPHAN,
]);

const catalog = loadCatalog();
const pump = catalog.useCases.find((u) => u.id === 'pump-maintenance');
if (!pump) throw new Error('no pump-maintenance manifest');

function templateOf(props: Partial<PipelineStackProps>): Record<string, unknown> {
  return Template.fromStack(pipelineStack(testApp(), props)).toJSON();
}

/** Each stateful resource the change would replace, delete or orphan, with what happens to it. */
function dataLosses(before: Partial<PipelineStackProps>, after: Partial<PipelineStackProps>): string[] {
  return templateLosses(templateOf(before), templateOf(after));
}

function templateLosses(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const diff = fullDiff(before, after);
  const losses: string[] = [];
  diff.resources.forEachDifference((logicalId, change) => {
    const type = change.oldResourceType ?? change.newResourceType ?? '';
    if (STATEFUL.has(type) && LOSES.has(change.changeImpact))
      losses.push(`${logicalId} ${type} ${change.changeImpact}`);
  });
  return losses;
}

const withRetention = (manifest: UseCaseManifest, days: number): UseCaseManifest => ({
  ...manifest,
  storage: { ...manifest.storage, magneticRetentionDays: days },
});

const withInstanceType = (manifest: UseCaseManifest, instanceType: string): UseCaseManifest => {
  if (!manifest.model) throw new Error(`${manifest.id} has no model`);
  return {
    ...manifest,
    model: { ...manifest.model, endpoint: { ...manifest.model.endpoint, instanceType } },
  };
};

// A second pump line of its own: the same contract, another id.
const secondLine: UseCaseManifest = { ...pump, id: 'pump-line-2' };

const TRAINED = {
  modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
};

const CHANGES: [string, Partial<PipelineStackProps>, Partial<PipelineStackProps>][] = [
  ['a new use case', {}, { useCases: [...catalog.useCases, secondLine] }],
  [
    'a shorter retention',
    {},
    { useCases: catalog.useCases.map((u) => (u.id === pump.id ? withRetention(u, 365) : u)) },
  ],
  ['an InfluxDB token rotation', {}, { influx: { tokenRotation: '2026-12-06' } }],
  ['a larger InfluxDB disk', {}, { influx: { allocatedStorage: 4000 } }],
  ['a larger fleet', {}, { fleet: { devicesPerUseCase: 300 } }],
  ['the first trained model', {}, TRAINED],
  [
    'a larger endpoint instance type',
    TRAINED,
    {
      ...TRAINED,
      useCases: catalog.useCases.map((u) => (u.id === pump.id ? withInstanceType(u, 'ml.c5.xlarge') : u)),
    },
  ],
  [
    'a new use case, on LiveAnalytics',
    LIVE_ANALYTICS,
    { ...LIVE_ANALYTICS, useCases: [...catalog.useCases, secondLine] },
  ],
];

// Each case synthesizes the stack twice: seconds on an idle machine, more on a busy one.
const TWO_SYNTHS_MS = 240_000;

describe('updates of a deployed stack', () => {
  it.each(CHANGES)(
    'GIVEN %s THEN no table, bucket, key, user pool, secret or InfluxDB instance is replaced or deleted',
    (_change, before, after) => {
      expect(dataLosses(before, after)).toEqual([]);
    },
    TWO_SYNTHS_MS,
  );

  it(
    'GIVEN a code change in core/ (a new model image) THEN the endpoint keeps the model people approved: nothing is replaced, only the resource that holds the endpoint and the fine-tuning functions learn the new image',
    () => {
      const before = templateOf(TRAINED);
      // What a code change does to the template: the image asset's hash, in its tag, and nothing else.
      const text = JSON.stringify(before);
      const hashes = new Set([...text.matchAll(/container-assets-[^"]*:([0-9a-f]{64})/g)].map((m) => m[1]));
      expect(hashes.size).toBe(1); // every use case's image is built from the same files
      let changed = text;
      for (const hash of hashes) changed = changed.replaceAll(hash ?? '', 'f'.repeat(64));
      const after = JSON.parse(changed) as Record<string, unknown>;

      expect(templateLosses(before, after)).toEqual([]);
      const updated: string[] = [];
      fullDiff(before, after).resources.forEachDifference((logicalId, change) => {
        if (!change.isDifferent) return;
        const properties = Object.keys(change.propertyUpdates).join(',');
        updated.push(`${change.newResourceType ?? ''} ${properties}`);
      });
      // Its handler keeps the live model when only the image changed (test/core/endpoint-spec.test.ts);
      // the two fine-tuning functions learn the image their next jobs train with.
      expect(updated.sort()).toEqual([
        'AWS::Lambda::Function Environment',
        'AWS::Lambda::Function Environment',
        'Custom::AiotModelEndpoint Image',
      ]);
    },
    TWO_SYNTHS_MS,
  );

  it(
    'GIVEN a change that does replace a stateful resource THEN the comparison finds it (the check can fail)',
    () => {
      // Another InfluxDB organization is a replacement of the instance, with every reading in it.
      const losses = dataLosses({}, { influx: { organization: 'plant' } });

      expect(losses.some((loss) => loss.includes('AWS::Timestream::InfluxDBInstance WILL_REPLACE'))).toBe(
        true,
      );
    },
    TWO_SYNTHS_MS,
  );
});
