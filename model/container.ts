/**
 * Entry point of the SageMaker container: `train` or `serve`, as SageMaker runs it
 * (`docker run <image> train|serve`). Bundled into one file by `npm run build:model`.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadModel } from './invocations.ts';
import { SAGEMAKER_PORT, sageMakerPaths } from './sagemaker-paths.ts';
import { startModelServer } from './serve.ts';
import { metricLines, runFineTune } from './fine-tune-job.ts';
import { runTraining } from './train.ts';

const paths = sageMakerPaths();
const command = process.argv[2];

if (command === 'train') {
  try {
    const options = { modelDir: paths.modelDir, hyperparametersFile: paths.hyperparametersFile };
    // A feedback channel makes it a fine-tuning job (started by the cloud after false positives).
    const { report } = existsSync(paths.feedbackChannel)
      ? runFineTune({ ...options, feedbackDir: paths.feedbackChannel, liveDir: paths.liveChannel })
      : runTraining({ ...options, trainDir: paths.trainChannel });
    console.log(JSON.stringify({ message: 'training complete', ...report }));
    if (existsSync(paths.feedbackChannel)) for (const line of metricLines(report)) console.log(line);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    mkdirSync(path.dirname(paths.failureFile), { recursive: true });
    writeFileSync(paths.failureFile, reason);
    console.error(reason);
    process.exitCode = 255;
  }
} else if (command === 'serve') {
  const model = loadModel(paths.modelDir);
  const server = await startModelServer(model, {
    port: Number(process.env.SAGEMAKER_BIND_TO_PORT ?? SAGEMAKER_PORT),
  });
  console.log(JSON.stringify({ message: 'serving', modelVersion: model.modelVersion, port: server.port }));
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  console.error(`usage: container train|serve (got ${command ?? 'nothing'})`);
  process.exitCode = 2;
}
