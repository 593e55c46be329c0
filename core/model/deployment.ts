import { z } from 'zod';

/**
 * What EventBridge delivers when a model package's approval status changes in the SageMaker Model
 * Registry (`SageMaker Model Package State Change`). Only what the deploy function needs.
 */
export const modelPackageStateChangeSchema = z.object({
  'detail-type': z.literal('SageMaker Model Package State Change'),
  detail: z.object({
    ModelPackageArn: z.string().min(1),
    ModelPackageGroupName: z.string().min(1),
    ModelApprovalStatus: z.string(),
  }),
});

export type ModelPackageStateChange = z.output<typeof modelPackageStateChangeSchema>;

/** Who did something in SageMaker (`UserContext`): a Studio user profile or an IAM identity. */
export interface SageMakerIdentity {
  readonly UserProfileArn?: string;
  readonly UserProfileName?: string;
  readonly IamIdentity?: { readonly Arn?: string };
}

/** One identity as text: the Studio user profile if there is one, else the IAM ARN (an assumed role's includes its session). */
export function identityOf(who: SageMakerIdentity | undefined): string | undefined {
  return who?.UserProfileArn ?? who?.IamIdentity?.Arn ?? undefined;
}

/**
 * Four eyes on AWS: the identity that approved a model package must be known and differ from the
 * one that created it. Answers why not, or undefined when the approval stands.
 */
export function fourEyesProblem(
  createdBy: SageMakerIdentity | undefined,
  approvedBy: SageMakerIdentity | undefined,
): string | undefined {
  const creator = identityOf(createdBy);
  const approver = identityOf(approvedBy);
  if (!creator || !approver) {
    return `the registry does not say who ${creator ? 'approved' : 'created'} it, so four eyes cannot be shown`;
  }
  if (creator === approver) return `${approver} created it and may not also approve it (four eyes)`;
  return undefined;
}

/**
 * A SageMaker resource name for a new model or endpoint configuration: the use case, the package
 * version and the time, within SageMaker's 63 characters of [a-zA-Z0-9-].
 */
export function deploymentName(useCase: string, packageVersion: number, at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  const suffix = `-v${packageVersion}-${stamp}`;
  return `${useCase.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63 - suffix.length)}${suffix}`;
}
