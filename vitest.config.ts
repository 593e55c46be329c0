import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CDK synth and the end-to-end runtime are CPU heavy; two workers fit a 2-core CI box.
    maxWorkers: 2,
  },
});
