import { z } from 'zod';

/** FINE_TUNE_TARGETS: each use case's fine-tuning target by use case id (lambdas/adapters/sagemaker-fine-tune.ts). */
export const fineTuneTargetsSchema = z.record(
  z.string(),
  z.strictObject({
    endpointName: z.string().min(1),
    modelPackageGroupName: z.string().min(1),
    roleArn: z.string().min(1),
    image: z.string().min(1),
    bucket: z.string().min(1),
    trainingDataPrefix: z.string().min(1),
    modelOutputPrefix: z.string().min(1),
    instanceType: z.string().min(1),
  }),
);
