/**
 * Bundles the edge agent into one self-contained ESM file, runnable with plain `node` on a
 * gateway: `npm run build:edge` writes `dist/edge/aiot-edge.mjs`.
 */
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

export function edgeBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [path.join(import.meta.dirname, 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Gateways lag behind: the oldest Node.js release still maintained.
    target: 'node20',
    outfile,
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const outfile = process.argv[2] ?? path.join(import.meta.dirname, '..', 'dist', 'edge', 'aiot-edge.mjs');
  await build(edgeBuildOptions(outfile));
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
