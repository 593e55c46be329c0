import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations, type IPolicyValidationPlugin } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from '../../lib/nag.ts';
import { PipelineStack, type PipelineStackProps } from '../../lib/stacks/pipeline-stack.ts';
import { loadCatalog } from '../../usecases/catalog.ts';

// The feature flags of cdk.json, so tests synthesize what `cdk synth` synthesizes.
const cdkJsonContext = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** An app that skips Lambda bundling (esbuild runs in one dedicated test) and writes to a temp dir. */
export function testApp(options: { bundle?: boolean } = {}): App {
  return new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'aiot-cdk-')),
    context: { ...cdkJsonContext, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

export function pipelineStack(app = testApp(), props: Partial<PipelineStackProps> = {}): PipelineStack {
  return new PipelineStack(app, 'Test', { ...loadCatalog(), ...props });
}

/** A bare stack with the shared resources a construct under test needs. */
export function constructHarness() {
  const stack = new Stack(testApp(), 'Harness');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'Bucket', { encryptionKey: key, encryption: s3.BucketEncryption.KMS });
  return { stack, key, bucket };
}

export interface NagViolation {
  readonly rule: string;
  readonly path: string;
}

/** A finding of a validation plugin, as its report names it. */
export interface PluginViolation {
  readonly rule: string;
  readonly severity: string;
  readonly paths: string[];
}

/** Synthesizes `app` with `plugin` and answers every finding it reports (none when it passes). */
export function validationViolations(app: App, plugin: IPolicyValidationPlugin): PluginViolation[] {
  Validations.of(app).addPlugins(plugin);
  try {
    app.synth();
    return [];
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'ValidationFailed') throw error;
  }
  const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      paths: v.violatingConstructs.map((c) => c.constructPath),
    })),
  );
}

/** Synthesizes `app` with the AwsSolutions pack and returns every error it reports (none when it passes). */
export function awsSolutionsErrors(app: App): NagViolation[] {
  return validationViolations(app, new AwsSolutionsChecks(app))
    .filter((violation) => violation.severity === 'error')
    .flatMap((violation) =>
      violation.paths.map((constructPath) => ({ rule: violation.rule, path: constructPath })),
    );
}

/** A stack that keeps readings in Timestream for LiveAnalytics, as accounts that had it before 2025-06-20 may. */
export const LIVE_ANALYTICS: Partial<PipelineStackProps> = { telemetryStore: 'liveanalytics' };
