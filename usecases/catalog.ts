import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseManifest, type UseCaseManifest } from '../core/usecase/manifest.ts';

/** The folder of this file, where the manifests live. */
export const USE_CASES_DIR = import.meta.dirname;

/** Reads and validates every `*.yaml` manifest of a folder; the first invalid one throws a ManifestError. */
export function loadUseCases(dir: string = USE_CASES_DIR): UseCaseManifest[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      return parseManifest(readFileSync(file, 'utf8'), path.relative(process.cwd(), file) || name);
    });
}
