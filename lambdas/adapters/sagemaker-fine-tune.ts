import {
  CreateModelPackageCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListModelPackagesCommand,
  ListTrainingJobsCommand,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { FINE_TUNE_METRIC_NAMES } from '../../core/model/fine-tune-data.ts';

/** What SageMaker reads off the job's log into its final metrics (model/fine-tune-job.ts prints them). */
export const FINE_TUNE_METRIC_DEFINITIONS = FINE_TUNE_METRIC_NAMES.map((name) => ({
  Name: name,
  Regex: `fine-tune metric ${name}=([-+0-9.eE]+)`,
}));

/** Where one use case's fine-tuning jobs run and what they start from (set by ModelFineTuning). */
export interface FineTuneTarget {
  readonly endpointName: string;
  readonly modelPackageGroupName: string;
  /** The execution role of the use case's training jobs and endpoint. */
  readonly roleArn: string;
  readonly image: string;
  readonly bucket: string;
  /** Where the job's readings and verdicts are written (under the use case's training data). */
  readonly trainingDataPrefix: string;
  /** Where SageMaker puts the candidate's artifact. */
  readonly modelOutputPrefix: string;
  readonly instanceType: string;
}

export interface FineTuneJob {
  readonly name: string;
  readonly status: string;
  readonly createdAt: number;
}

/** The use case's most recent fine-tuning job, whatever its status. */
export async function latestFineTuneJob(
  client: SageMakerClient,
  prefix: string,
): Promise<FineTuneJob | undefined> {
  const { TrainingJobSummaries: [job] = [] } = await client.send(
    new ListTrainingJobsCommand({
      NameContains: prefix,
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 1,
    }),
  );
  if (!job?.TrainingJobName) return undefined;
  return {
    name: job.TrainingJobName,
    status: job.TrainingJobStatus ?? 'Unknown',
    createdAt: job.CreationTime?.getTime() ?? 0,
  };
}

/** When the group's newest version was registered (0 when it has none). */
export async function lastCandidateAt(client: SageMakerClient, group: string): Promise<number> {
  const { ModelPackageSummaryList: [latest] = [] } = await client.send(
    new ListModelPackagesCommand({
      ModelPackageGroupName: group,
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      MaxResults: 1,
    }),
  );
  return latest?.CreationTime?.getTime() ?? 0;
}

/** The artifact the endpoint serves now: endpoint, its configuration, its model. */
export async function liveModelDataUrl(client: SageMakerClient, endpointName: string): Promise<string> {
  const endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  const config = await client.send(
    new DescribeEndpointConfigCommand({ EndpointConfigName: endpoint.EndpointConfigName }),
  );
  const modelName = config.ProductionVariants?.[0]?.ModelName;
  if (!modelName) throw new Error(`endpoint ${endpointName} serves no model`);
  const model = await client.send(new DescribeModelCommand({ ModelName: modelName }));
  const url = model.PrimaryContainer?.ModelDataUrl ?? model.Containers?.[0]?.ModelDataUrl;
  if (!url) throw new Error(`model ${modelName} of endpoint ${endpointName} has no artifact`);
  return url;
}

/**
 * A training job of the use case's own image in fine-tuning mode: the `feedback` channel (readings
 * and verdicts) and the `live` channel (the live artifact). No network: the job needs none.
 */
export async function startFineTuneJob(
  client: SageMakerClient,
  job: {
    readonly name: string;
    readonly target: FineTuneTarget;
    readonly feedbackPrefix: string;
    readonly liveModel: string;
    readonly hyperparameters: Record<string, string>;
  },
): Promise<void> {
  const { target } = job;
  const channel = (name: string, uri: string) => ({
    ChannelName: name,
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix' as const,
        S3Uri: uri,
        S3DataDistributionType: 'FullyReplicated' as const,
      },
    },
  });
  await client.send(
    new CreateTrainingJobCommand({
      TrainingJobName: job.name,
      AlgorithmSpecification: {
        TrainingImage: target.image,
        TrainingInputMode: 'File',
        MetricDefinitions: FINE_TUNE_METRIC_DEFINITIONS,
      },
      RoleArn: target.roleArn,
      InputDataConfig: [
        channel('feedback', `s3://${target.bucket}/${job.feedbackPrefix}`),
        channel('live', job.liveModel),
      ],
      OutputDataConfig: { S3OutputPath: `s3://${target.bucket}/${target.modelOutputPrefix}` },
      ResourceConfig: { InstanceType: target.instanceType as never, InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      EnableNetworkIsolation: true,
      HyperParameters: job.hyperparameters,
    }),
  );
}

export function describeTrainingJob(
  client: SageMakerClient,
  name: string,
): Promise<DescribeTrainingJobCommandOutput> {
  return client.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
}

/** Registers the job's artifact in the group, pending a person's approval; the job's name makes it once. */
export async function registerPendingPackage(
  client: SageMakerClient,
  input: {
    readonly group: string;
    readonly image: string;
    readonly modelDataUrl: string;
    readonly description: string;
    readonly properties: Record<string, string>;
    readonly clientToken: string;
  },
): Promise<string> {
  const result = await client.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: input.group,
      ModelPackageDescription: input.description.slice(0, 1000),
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: {
        Containers: [{ Image: input.image, ModelDataUrl: input.modelDataUrl }],
        SupportedContentTypes: ['application/json'],
        SupportedResponseMIMETypes: ['application/json'],
      },
      CustomerMetadataProperties: input.properties,
      ClientToken: input.clientToken,
    }),
  );
  return result.ModelPackageArn ?? '';
}
