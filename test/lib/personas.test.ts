import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { PERSONAS, type Persona } from '../../lib/constructs/personas.ts';
import { pipelineStack, testApp } from '../support/cdk.ts';
import { accessLevels } from '../support/iam-access.ts';

// cdk-nag's AwsSolutions pack runs on the whole stack, with and without an endpoint, in nag.test.ts.
describe('Personas', () => {
  const stack = pipelineStack(testApp(), {
    modelArtifacts: { 'pump-maintenance': 'models/pump-maintenance/job-1/output/model.tar.gz' },
  });
  const template = Template.fromStack(stack);

  /** Every action each persona's role is allowed, from the policies attached to it. */
  function actionsOf(persona: Persona): string[] {
    const role = stack.personas.roles.get(persona);
    if (!role) throw new Error(`no ${persona}`);
    const logicalId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .map(
        (p) =>
          (
            p as {
              Properties: {
                Roles: { Ref: string }[];
                PolicyDocument: { Statement: { Action: string | string[] }[] };
              };
            }
          ).Properties,
      )
      .filter((p) => p.Roles.some((r) => r.Ref === logicalId))
      .flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => [s.Action].flat()));
  }

  it('GIVEN the stack THEN each persona has a role that people assume only with MFA', () => {
    expect([...stack.personas.roles.keys()]).toEqual([
      'operator',
      'analyst',
      'reliability-engineer',
      'ml-engineer',
      'auditor',
    ]);
    expect(PERSONAS).toHaveLength(5);
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r).includes('aiot-pipeline '),
    );
    expect(roles).toHaveLength(5);
    for (const role of roles) {
      expect(JSON.stringify(role)).toContain('"aws:MultiFactorAuthPresent":"true"');
    }
  });

  it('GIVEN the auditor THEN every action it has reads: it can change nothing', () => {
    const actions = actionsOf('auditor');
    expect(actions).toEqual(expect.arrayContaining(['cloudtrail:LookupEvents', 'events:DescribeArchive']));
    expect(
      actions.filter((a) =>
        /:(Put|Create|Update|Delete|Write|Send|Start|Stop|Invoke|Generate|Encrypt|Pass)/.test(a),
      ),
    ).toEqual([]);
  });

  /**
   * What a read-only persona may hold beyond IAM's List and Read levels, and why: kms:Decrypt is a
   * Write-level action in IAM's reference, yet it only lets the role read what the stack's key
   * encrypts (the alert table, the audit log files), which is what it is for.
   */
  const READS_ENCRYPTED = new Set(['kms:Decrypt']);

  it.each(['auditor', 'analyst'] as const)(
    "GIVEN the %s THEN each action it holds is List or Read in IAM's own reference, and no managed policy is attached",
    async (persona) => {
      const levels = await accessLevels(actionsOf(persona));
      const beyondReading = [...levels].filter(
        ([action, level]) => level !== 'List' && level !== 'Read' && !READS_ENCRYPTED.has(action),
      );

      expect(levels.size).toBeGreaterThan(3);
      expect(beyondReading).toEqual([]);
      const role = stack.personas.roles.get(persona)?.node.defaultChild as iam.CfnRole;
      const { Resources } = template.toJSON() as {
        Resources: Record<string, { Properties: { ManagedPolicyArns?: unknown[] } }>;
      };
      const resource = Resources[stack.getLogicalId(role)];
      expect(resource?.Properties.ManagedPolicyArns ?? []).toEqual([]);
    },
  );

  it("GIVEN IAM's reference THEN writes named in a read-only policy would be found: the check can fail", async () => {
    const levels = await accessLevels(['dynamodb:BatchWriteItem', 's3:*', 'iam:Attach*', 'dynamodb:Tag*']);

    expect(levels.get('dynamodb:BatchWriteItem')).toBe('Write');
    expect(levels.get('s3:PutObject')).toBe('Write');
    expect(levels.get('iam:AttachRolePolicy')).toContain('Permissions management');
    expect(levels.get('dynamodb:TagResource')).toContain('Tagging');
  });

  it('GIVEN an operator THEN it reads alerts and nothing else', () => {
    expect(new Set(actionsOf('operator'))).toEqual(
      new Set(['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt', 'kms:DescribeKey']),
    );
  });

  it('GIVEN the model registry THEN engineers approve, ML engineers also train and register, and nobody else may', () => {
    for (const persona of ['reliability-engineer', 'ml-engineer'] as const) {
      expect(actionsOf(persona)).toContain('sagemaker:UpdateModelPackage');
    }
    for (const persona of ['operator', 'analyst', 'auditor'] as const) {
      expect(actionsOf(persona)).not.toContain('sagemaker:UpdateModelPackage');
    }
    expect(actionsOf('ml-engineer')).toEqual(
      expect.arrayContaining(['sagemaker:CreateTrainingJob', 'sagemaker:CreateModelPackage', 'iam:PassRole']),
    );
    expect(actionsOf('reliability-engineer')).not.toContain('sagemaker:CreateTrainingJob');
  });
});
