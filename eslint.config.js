// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers are the architecture, as the README's layout table states it: which project folders
 * each folder may import, and which packages it may not. Folders not listed here (bin/, test/,
 * bench/) may import everything.
 */
const FOLDERS = [
  'core',
  'lambdas',
  'model',
  'edge',
  'local',
  'lib',
  'console',
  'usecases',
  'contracts',
  'tools',
  'bin',
  'test',
  'bench',
];
const AWS_SDK = ['@aws-sdk/*', '@aws-lambda-powertools/*'];
const CDK = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'];
const LOCAL_STAND_INS = ['@duckdb/*', 'aedes'];
const IO = [
  'fs',
  'fs/*',
  'node:fs',
  'node:fs/*',
  'net',
  'node:net',
  'tls',
  'node:tls',
  'http',
  'node:http',
  'https',
  'node:https',
  'http2',
  'node:http2',
  'dgram',
  'node:dgram',
  'child_process',
  'node:child_process',
  'worker_threads',
  'node:worker_threads',
  'mqtt',
];
const LAYERS = {
  core: {
    may: [],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, ...IO],
    why: 'core/ is pure domain logic: no SDK, CDK or I/O (put it behind a port), nothing from the layers above',
  },
  lambdas: {
    may: ['core'],
    packages: [...CDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'lambdas/ are thin AWS entry points and adapters over core/',
  },
  model: {
    may: ['core', 'tools'],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'model/ is the SageMaker container around core/: it runs with no AWS SDK',
  },
  edge: {
    may: ['core', 'tools'],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS],
    why: 'edge/ runs on devices as one small file: core/ and its own adapters only',
  },
  local: {
    may: ['core', 'edge', 'model'],
    packages: [...AWS_SDK, ...CDK],
    why: 'local/ is the one-machine runtime: core/, the edge agent (the fleet) and the model container code',
  },
  lib: {
    may: ['core', 'tools'],
    packages: [...AWS_SDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'lib/ is infrastructure: it references lambdas and the container by path only, and builds the console with tools/',
  },
  console: {
    may: ['core'],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, ...IO, 'zod', 'node:*'],
    why: 'console/ is the operator console in the browser: the operators API over fetch, types and small pure helpers of core/, nothing that makes the page heavy',
  },
  usecases: {
    may: ['core', 'contracts'],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'usecases/ holds manifests and the loader that reads them',
  },
  contracts: {
    may: ['core'],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'contracts/ holds the data contract files and the loader that reads them',
  },
  tools: {
    may: [],
    packages: [...AWS_SDK, ...CDK, ...LOCAL_STAND_INS, 'mqtt'],
    why: 'tools/ is build tooling: nothing of the project',
  },
};

function layerRules() {
  return Object.entries(LAYERS).map(([folder, layer]) => ({
    files: [`${folder}/**/*.ts`],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: `./${folder}`,
              from: FOLDERS.filter((other) => other !== folder && !layer.may.includes(other)).map(
                (other) => `./${other}`,
              ),
              message: `${layer.why}.`,
            },
          ],
        },
      ],
      'no-restricted-imports': ['error', { patterns: [{ group: layer.packages, message: `${layer.why}.` }] }],
    },
  }));
}

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.aiot/', 'dist/', 'coverage/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './console/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
  {
    // Sizes a reader can hold: no file over 400 lines, no function over 80 (split by meaning). A
    // test file's describe blocks are lists of cases, not functions to read at once: they are left out.
    files: ['**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    files: ['**/*.ts'],
    ignores: ['test/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // No import circles: a circle decides at run time which module is half-initialized (a KPI
    // constant read before its module ran crashed every CLI command once).
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
