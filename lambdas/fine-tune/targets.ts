import { z } from 'zod';
import type { FineTuneTarget } from '../adapters/sagemaker-fine-tune.ts';
import { requireEnv } from '../shared/env.ts';

/** FINE_TUNE_TARGETS: each use case's fine-tuning target by use case id (lambdas/adapters/sagemaker-fine-tune.ts). */
const fineTuneTargetsSchema = z.record(
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

/** The targets both fine-tuning functions are built with, checked as they start. */
export function fineTuneTargetsFromEnv(env: NodeJS.ProcessEnv): Map<string, FineTuneTarget> {
  return new Map(
    Object.entries(fineTuneTargetsSchema.parse(JSON.parse(requireEnv('FINE_TUNE_TARGETS', env)))),
  );
}
