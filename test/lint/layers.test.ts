import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');
const LAYER_RULES = new Set(['import-x/no-restricted-paths', 'no-restricted-imports']);
let eslint: ESLint;

/**
 * The layer rules exactly as eslint.config.js states them, linted without the type-aware rules
 * around them: those build the whole program's types (minutes of CI), and layers need none.
 */
async function layerLinter(): Promise<ESLint> {
  const { default: config } = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)) as {
    default: Linter.Config[];
  };
  const layers = config.filter((entry) =>
    Object.keys(entry.rules ?? {}).some((rule) => LAYER_RULES.has(rule)),
  );
  expect(layers.length).toBeGreaterThan(5);
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layers],
  });
}

/** The layer findings of `import` written in `file` (an existing file of that folder, linted with this text). */
async function layerFindings(file: string, importLine: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${importLine}\nexport const used = x;\n`, {
    filePath: path.join(ROOT, file),
  });
  // A file that did not parse, or that no layer rule applies to, would allow everything.
  expect(result?.fatalErrorCount).toBe(0);
  expect(existsSync(path.join(ROOT, file)), `${file} exists`).toBe(true);
  return (result?.messages ?? []).filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => m.message);
}

describe('layer rules (the README layout table, enforced by ESLint)', () => {
  beforeAll(async () => {
    eslint = await layerLinter();
  });

  it.each([
    ['core/ingest/base64.ts', "import x from 'fs';"],
    ['core/ingest/base64.ts', "import x from 'node:https';"],
    ['core/ingest/base64.ts', "import x from 'mqtt';"],
    ['core/ingest/base64.ts', "import { loadUseCases as x } from '../../usecases/catalog.ts';"],
    ['core/ingest/base64.ts', "import { DiskQueue as x } from '../../edge/disk-queue.ts';"],
    ['core/ingest/base64.ts', "import { invoke as x } from '../../model/invocations.ts';"],
    ['lambdas/shared/env.ts', "import { DuckDbStore as x } from '../../local/store/duckdb-store.ts';"],
    ['lambdas/shared/env.ts', "import x from 'aws-cdk-lib';"],
    ['model/http-json.ts', "import { requireEnv as x } from '../lambdas/shared/env.ts';"],
    ['model/http-json.ts', "import x from '@aws-sdk/client-s3';"],
    ['edge/sources.ts', "import { DuckDbStore as x } from '../local/store/duckdb-store.ts';"],
    ['edge/sources.ts', "import { invoke as x } from '../model/invocations.ts';"],
    ['edge/sources.ts', "import x from '@duckdb/node-api';"],
    ['local/http/listen.ts', "import { requireEnv as x } from '../../lambdas/shared/env.ts';"],
    ['local/http/listen.ts', "import x from '@aws-sdk/client-s3';"],
    ['lib/grants.ts', "import { invoke as x } from '../model/invocations.ts';"],
    ['lib/grants.ts', "import { DiskQueue as x } from '../edge/disk-queue.ts';"],
    ['usecases/catalog.ts', "import { DuckDbStore as x } from '../local/store/duckdb-store.ts';"],
    ['contracts/catalog.ts', "import { loadUseCases as x } from '../usecases/catalog.ts';"],
    ['contracts/catalog.ts', "import x from '@duckdb/node-api';"],
    ['core/ingest/base64.ts', "import { loadContracts as x } from '../../contracts/catalog.ts';"],
    ['tools/node-bundle.ts', "import { reasonsFromZod as x } from '../core/contracts/reasons.ts';"],
    ['console/dom.ts', "import { DuckDbStore as x } from '../local/store/duckdb-store.ts';"],
    ['console/dom.ts', "import { z as x } from 'zod';"],
    ['console/dom.ts', "import x from '@aws-sdk/client-s3';"],
  ])('refuses in %s: %s', async (file, line) => {
    expect(await layerFindings(file, line)).not.toEqual([]);
  });

  it.each([
    ['local/http/listen.ts', "import { trainAnomalyModel as x } from '../../core/model/anomaly-model.ts';"],
    ['local/http/listen.ts', "import { invoke as x } from '../../model/invocations.ts';"],
    ['local/http/listen.ts', "import { DiskQueue as x } from '../../edge/disk-queue.ts';"],
    ['core/ingest/base64.ts', "import { EdgePreprocessor as x } from '../edge/preprocessor.ts';"],
    ['edge/sources.ts', "import { reasonsFromZod as x } from '../core/contracts/reasons.ts';"],
    ['lib/grants.ts', "import { ingestRuleSql as x } from '../core/ingest/rule.ts';"],
    ['bin/app.ts', "import { DuckDbStore as x } from '../local/store/duckdb-store.ts';"],
    ['console/dom.ts', "import { topContributors as x } from '../core/alerts/contributors.ts';"],
    ['lib/grants.ts', "import { buildConsoleInto as x } from '../tools/console-bundle.ts';"],
  ])('allows in %s: %s', async (file, line) => {
    expect(await layerFindings(file, line)).toEqual([]);
  });
});
