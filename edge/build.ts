/**
 * Bundles the edge agent into one self-contained ESM file, runnable with plain `node` on a
 * gateway: `npm run build:edge` writes `dist/edge/aiot-edge.mjs`.
 */
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { singleFileNodeBundle } from '../tools/node-bundle.ts';

export function edgeBuildOptions(outfile: string): BuildOptions {
  return singleFileNodeBundle(path.join(import.meta.dirname, 'main.ts'), outfile);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const outfile = process.argv[2] ?? path.join(import.meta.dirname, '..', 'dist', 'edge', 'aiot-edge.mjs');
  await build(edgeBuildOptions(outfile));
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
