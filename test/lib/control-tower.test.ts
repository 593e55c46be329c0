import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Stack, type App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { CONTROL_TOWER_EXCEPTIONS } from '../../lib/control-tower.ts';
import { pipelineStack, testApp, validationViolations } from '../support/cdk.ts';

interface GuardViolation {
  readonly rule: string;
  readonly paths: string[];
}

/** Synthesizes `app` with the Control Tower rules, less the documented exceptions; answers what fails. */
function controlTowerViolations(
  app: App,
  disabledRules = CONTROL_TOWER_EXCEPTIONS.map((e) => e.control),
): GuardViolation[] {
  const validator = new CfnGuardValidator({ disabledRules, maxBuffer: 64 * 1024 * 1024 });
  return validationViolations(app, validator).map(({ rule, paths }) => ({ rule, paths }));
}

// Each case synthesizes the whole stack and runs cfn-guard's rules over the template: half a minute
// on an idle 2-core machine, more than the default minute on a busy one.
const SYNTH_AND_GUARD_TIMEOUT_MS = 300_000;

describe('AWS Control Tower proactive controls', () => {
  it.each(['influxdb', 'liveanalytics'] as const)(
    'GIVEN the stack with -c store=%s and a deployed model THEN every rule passes but the documented exceptions',
    (store) => {
      const app = testApp();
      pipelineStack(app, {
        telemetryStore: store,
        modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
      });
      expect(controlTowerViolations(app)).toEqual([]);
    },
    SYNTH_AND_GUARD_TIMEOUT_MS,
  );

  it(
    'GIVEN each exception THEN it has a reason and names a rule the stack would otherwise fail',
    () => {
      const app = testApp();
      pipelineStack(app, { telemetryStore: 'liveanalytics' });
      const failing = new Set(controlTowerViolations(app, []).map((v) => v.rule));
      for (const { control, rule, reason } of CONTROL_TOWER_EXCEPTIONS) {
        expect(reason.length, control).toBeGreaterThan(40);
        expect(failing, `exception ${control} is no longer needed`).toContain(rule);
      }
    },
    SYNTH_AND_GUARD_TIMEOUT_MS,
  );

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
