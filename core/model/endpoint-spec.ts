import { z } from 'zod';

/**
 * A use case's SageMaker endpoint as the stack describes it: the properties of its custom
 * resource (lambdas/model-endpoint). CloudFormation hands every number over as a string.
 *
 * The stack owns the endpoint's name, instance type and capture settings, and the model it starts
 * with. Which model runs after that is the model registry's to say (an approval deploys it), so
 * an update of the stack never puts the starting model back: only a changed `ModelDataUrl`, a
 * model a person names in the stack, does.
 */
export const endpointSpecSchema = z.object({
  UseCase: z.string().min(1),
  EndpointName: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'not a SageMaker endpoint name'),
  ExecutionRoleArn: z.string().startsWith('arn:'),
  Image: z.string().min(1),
  ModelDataUrl: z.string().regex(/^s3:\/\/.+\.tar\.gz$/, 'not the S3 URL of a model.tar.gz'),
  InstanceType: z.string().startsWith('ml.'),
  InitialInstanceCount: z.coerce.number().int().min(1),
  /** Absent for instance types with local storage, which SageMaker refuses a key for. */
  KmsKeyId: z.string().optional(),
  CapturePercent: z.coerce.number().int().min(0).max(100),
  CaptureDestination: z.string().startsWith('s3://'),
  CaptureKmsKeyId: z.string().min(1),
  RollbackAlarmNames: z.array(z.string().min(1)).min(1),
});

export type EndpointSpec = z.output<typeof endpointSpecSchema>;

/** What an update of the stack does to the endpoint. */
export interface EndpointChange {
  /** A new endpoint (a new instance type: SageMaker refuses to change an autoscaled variant's). */
  readonly endpoint: 'same' | 'new';
  /** The model that runs afterwards: the one running now, or one from the stack's artifact. */
  readonly model: 'live' | 'artifact';
  /** Whether the endpoint's configuration changes at all; if not, nothing is done. */
  readonly changes: boolean;
  /** In words, for the log and the audit trail. */
  readonly why: string;
}

/** Settings of the endpoint configuration that a stack update can change in place. */
const CONFIGURATION: readonly (keyof EndpointSpec)[] = [
  'KmsKeyId',
  'CapturePercent',
  'CaptureDestination',
  'CaptureKmsKeyId',
];

/**
 * What a stack update from `before` to `after` does. A new image alone (any code change) changes
 * nothing that runs: the image reaches the endpoint with the next approved version, which is
 * trained and registered with it. Nor does the execution role, the alarms or the initial count
 * (autoscaling owns the count once the endpoint exists).
 */
export function planEndpointUpdate(before: EndpointSpec, after: EndpointSpec): EndpointChange {
  const endpoint = before.EndpointName === after.EndpointName ? 'same' : 'new';
  const model = before.ModelDataUrl === after.ModelDataUrl ? 'live' : 'artifact';
  const settings = CONFIGURATION.filter((key) => before[key] !== after[key]);
  const reasons = [
    ...(endpoint === 'new'
      ? [`instance type ${before.InstanceType} -> ${after.InstanceType}: a new endpoint`]
      : []),
    ...(model === 'artifact' ? [`the stack names another model: ${after.ModelDataUrl}`] : []),
    ...settings.map((key) => `${key} changed`),
  ];
  const changes = reasons.length > 0;
  return {
    endpoint,
    model,
    changes,
    why: changes ? reasons.join('; ') : 'nothing that runs changed; the live model stays',
  };
}
