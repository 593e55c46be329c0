import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Stack, type App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { CONTROL_TOWER_EXCEPTIONS, type ControlTowerException } from '../../lib/control-tower.ts';
import { pipelineStack, testApp, validationViolations } from '../support/cdk.ts';
import { globRegExp } from '../support/glob.ts';

interface GuardViolation {
  readonly rule: string;
  readonly paths: string[];
}

/** Synthesizes `app` with every Control Tower rule; answers what fails, on which resources. */
function controlTowerViolations(app: App): GuardViolation[] {
  const validator = new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 });
  return validationViolations(app, validator).map(({ rule, paths }) => ({ rule, paths }));
}

type Store = 'influxdb' | 'liveanalytics';

/** An exception's resource patterns for a store, as regular expressions over paths under the stack. */
function patternsOf(exception: ControlTowerException, store: Store): RegExp[] {
  const patterns = [
    ...exception.resources,
    ...((store === 'influxdb' ? exception.influxDbResources : exception.liveAnalyticsResources) ?? []),
  ];
  return patterns.map(globRegExp);
}

// Each case synthesizes the whole stack and runs cfn-guard's rules over the template: half a minute
// on an idle 2-core machine, more than the default minute on a busy one.
const SYNTH_AND_GUARD_TIMEOUT_MS = 300_000;

describe('AWS Control Tower proactive controls', () => {
  it.each(['influxdb', 'liveanalytics'] as const)(
    'GIVEN the stack with -c store=%s and a deployed model THEN every rule passes on every resource but those each exception names, and each exception still names a failing one',
    (store) => {
      const app = testApp();
      pipelineStack(app, {
        telemetryStore: store,
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
      });
      const violations = controlTowerViolations(app).flatMap(({ rule, paths }) =>
        paths.map((p) => ({ rule, path: p.replace(/^Test\//, '') })),
      );

      const unexplained = violations.filter(
        ({ rule, path }) =>
          !CONTROL_TOWER_EXCEPTIONS.some(
            (e) => e.rule === rule && patternsOf(e, store).some((pattern) => pattern.test(path)),
          ),
      );
      expect(unexplained).toEqual([]);
      const stale = CONTROL_TOWER_EXCEPTIONS.flatMap((e) =>
        patternsOf(e, store)
          .filter((pattern) => !violations.some((v) => v.rule === e.rule && pattern.test(v.path)))
          .map((pattern) => `${e.control} ${String(pattern)}`),
      );
      expect(stale, 'exceptions for resources that no longer fail').toEqual([]);
    },
    SYNTH_AND_GUARD_TIMEOUT_MS,
  );

  it('GIVEN each exception THEN it says why, for named resources, never for the whole stack', () => {
    for (const exception of CONTROL_TOWER_EXCEPTIONS) {
      expect(exception.reason.length, exception.control).toBeGreaterThan(40);
      expect(exception.resources.length, exception.control).toBeGreaterThan(0);
      const all = [
        ...exception.resources,
        ...(exception.influxDbResources ?? []),
        ...(exception.liveAnalyticsResources ?? []),
      ];
      expect(all).not.toContain('*');
    }
  });

  it('GIVEN a plain bucket THEN the rules report it (the check can fail)', () => {
    const app = testApp();
    new s3.Bucket(new Stack(app, 'Bad'), 'PlainBucket');
    expect(controlTowerViolations(app)).toEqual(
      expect.arrayContaining([
        { rule: 's3_bucket_versioning_enabled_check', paths: ['Bad/PlainBucket/Resource'] },
      ]),
    );
  });
});
