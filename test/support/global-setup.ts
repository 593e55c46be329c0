import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { findChromium, type ChromiumChoice } from '../../tools/chromium.ts';
import { trainShippedModels } from './trained-models.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Chromium the browser tests launch, found once for the run. */
    chromium: ChromiumChoice;
  }
}

/**
 * Before any test file: the tools tests run for real must be here and work, or the run stops
 * with what is missing (`npm run test:prerequisites` installs them). Nothing is skipped for want
 * of a tool. The browser is found once, so workers never race to unpack the npm build, and the
 * shipped use cases' models are trained once, for the runtimes tests start (./trained-models.ts).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const influxd = process.env.INFLUXD_PATH ?? 'influxd';
  if (spawnSync(influxd, ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      `${influxd} does not run: the InfluxDB tests need a real server. Run "npm run test:prerequisites" (npm test does) or set INFLUXD_PATH.`,
    );
  }
  const chromium = await findChromium();
  console.log(`browser tests: ${chromium.source} (${chromium.executablePath})`);
  project.provide('chromium', chromium);
  const started = performance.now();
  const models = trainShippedModels();
  console.log(
    `shipped use cases' models trained once for the run in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  project.provide('trainedModels', models.folder);
  return models.remove;
}
