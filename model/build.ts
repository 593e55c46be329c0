/**
 * Bundles the container entry point into one ESM file: `npm run build:model` (the Dockerfile runs
 * it too). The container then needs nothing but `node`.
 */
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

export function containerBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [path.join(import.meta.dirname, 'container.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const outfile = process.argv[2] ?? path.join(import.meta.dirname, '..', 'dist', 'model', 'container.mjs');
  await build(containerBuildOptions(outfile));
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
