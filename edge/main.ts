#!/usr/bin/env node
// Entry point of the standalone agent (`npm run build:edge` bundles it into one file for devices).
import { edgeCommand } from './cli.ts';

await edgeCommand('aiot-edge')
  .showHelpAfterError()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
