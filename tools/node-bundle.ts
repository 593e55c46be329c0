import type { BuildOptions } from 'esbuild';

/**
 * esbuild options for one self-contained ESM file that runs with plain `node` (the model
 * container's entry point, the edge agent): every dependency bundled, minified, with a source map.
 */
export function singleFileNodeBundle(entryPoint: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The oldest Node.js release still maintained: gateways and base images lag behind.
    target: 'node20',
    outfile,
    minify: true,
    sourcemap: 'linked',
    legalComments: 'eof',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  };
}
