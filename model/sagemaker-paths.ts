import * as path from 'node:path';

/**
 * Where SageMaker's bring-your-own-container contract puts things, overridable by the same
 * environment variables SageMaker's own toolkits honour, so the code runs outside a container too.
 */
export interface SageMakerPaths {
  readonly trainChannel: string;
  /** Present for a fine-tuning job: recent readings and verdicts (model/fine-tune-job.ts). */
  readonly feedbackChannel: string;
  /** The live model a fine-tuning job starts from and is compared with. */
  readonly liveChannel: string;
  readonly modelDir: string;
  readonly hyperparametersFile: string;
  /** SageMaker shows the content of this file as the training job's failure reason. */
  readonly failureFile: string;
}

export function sageMakerPaths(env: NodeJS.ProcessEnv = process.env): SageMakerPaths {
  const prefix = env.SM_PREFIX ?? '/opt/ml';
  return {
    trainChannel: env.SM_CHANNEL_TRAIN ?? path.join(prefix, 'input', 'data', 'train'),
    feedbackChannel: env.SM_CHANNEL_FEEDBACK ?? path.join(prefix, 'input', 'data', 'feedback'),
    liveChannel: env.SM_CHANNEL_LIVE ?? path.join(prefix, 'input', 'data', 'live'),
    modelDir: env.SM_MODEL_DIR ?? path.join(prefix, 'model'),
    hyperparametersFile: env.SM_INPUT_CONFIG_DIR
      ? path.join(env.SM_INPUT_CONFIG_DIR, 'hyperparameters.json')
      : path.join(prefix, 'input', 'config', 'hyperparameters.json'),
    failureFile: env.SM_OUTPUT_DATA_DIR
      ? path.join(env.SM_OUTPUT_DATA_DIR, 'failure')
      : path.join(prefix, 'output', 'failure'),
  };
}

/** The port SageMaker sends /ping and /invocations to. */
export const SAGEMAKER_PORT = 8080;
