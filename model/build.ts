/**
 * Bundles the container entry point into one ESM file: `npm run build:model` (the Dockerfile runs
 * it too). The container then needs nothing but `node`.
 */
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { singleFileNodeBundle } from '../tools/node-bundle.ts';

export function containerBuildOptions(outfile: string): BuildOptions {
  return singleFileNodeBundle(path.join(import.meta.dirname, 'container.ts'), outfile);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const outfile = process.argv[2] ?? path.join(import.meta.dirname, '..', 'dist', 'model', 'container.mjs');
  await build(containerBuildOptions(outfile));
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
