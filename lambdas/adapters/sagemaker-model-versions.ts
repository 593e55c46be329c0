import { comparisonSummary } from '../../core/model/comparison-summary.ts';
import {
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { ModelVersions, ModelVersionView } from '../../core/operators/ports.ts';

const STATUS: Readonly<Record<string, string>> = {
  PendingManualApproval: 'pending',
  Approved: 'approved',
  Rejected: 'rejected',
};

/**
 * The use-case page's model versions from SageMaker's Model Registry: each use case's model
 * package group (MODEL_PACKAGE_GROUPS), newest first, with what each version was registered with
 * (its description, and the comparison the fine-tuning job left in its customer metadata).
 */
export class SageMakerModelVersions implements ModelVersions {
  constructor(
    private readonly client: SageMakerClient,
    private readonly groups: ReadonlyMap<string, string>,
  ) {}

  async list(useCase: string, limit: number): Promise<ModelVersionView[]> {
    const group = this.groups.get(useCase);
    if (!group) return [];
    const { ModelPackageSummaryList: summaries = [] } = await this.client.send(
      new ListModelPackagesCommand({
        ModelPackageGroupName: group,
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: limit,
      }),
    );
    return Promise.all(
      summaries.map(async (summary) => {
        const version = await this.client.send(
          new DescribeModelPackageCommand({ ModelPackageName: summary.ModelPackageArn }),
        );
        const identity =
          version.CreatedBy?.UserProfileName ?? version.CreatedBy?.IamIdentity?.Arn ?? 'unknown';
        return {
          version: `${group}/${version.ModelPackageVersion ?? summary.ModelPackageVersion ?? '?'}`,
          status:
            STATUS[version.ModelApprovalStatus ?? ''] ??
            (version.ModelApprovalStatus ?? 'unknown').toLowerCase(),
          trainedBy: identity,
          trainedAt: version.CreationTime?.getTime() ?? null,
          about: version.ModelPackageDescription ?? '',
          metrics: { ...version.CustomerMetadataProperties },
          comparison: comparisonSummary(version.CustomerMetadataProperties ?? {}),
        };
      }),
    );
  }
}
