import * as path from 'node:path';
import { defineConfig } from 'vitest/config';

const guard = path.join(import.meta.dirname, 'test', 'support', 'no-default-ports.mjs');
const SHARED = ['test/lib/**/*.test.ts', 'test/core/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CDK synth and the end-to-end runtime are CPU heavy; two workers fit a 2-core CI box.
    maxWorkers: 2,
    // Finds the tools the tests run for real (a Chromium that starts, influxd) once, before any file.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: [guard],
    env: {
      // Handlers log and emit EMF metrics on stdout; tests assert outcomes, not log lines.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // The processes tests start (the aiot CLI, the edge bundle) carry the same port guard.
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${JSON.stringify(guard)}`.trim(),
    },
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/vitest-report.json' }]] : ['default'],
    projects: [
      {
        // Infrastructure and domain tests keep no state between files (no SDK mocks, no servers,
        // no environment): their files share a worker's modules, so aws-cdk-lib loads once and a
        // synthesized template serves every file that reads it (test/lib: 150 s to 65 s alone).
        extends: true,
        test: { name: 'shared', include: SHARED, isolate: false },
      },
      {
        // SDK client mocks and started servers live in module state: each file gets fresh modules.
        extends: true,
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED },
      },
    ],
  },
});
