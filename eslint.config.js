// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.aiot/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The layers are the architecture: core stays pure, lib stays infrastructure.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
              message: 'core/ is pure domain logic: no AWS SDK or CDK.',
            },
            {
              group: ['node:fs', 'node:fs/*', 'node:net', 'node:tls', 'node:http', 'node:child_process'],
              message: 'core/ does no I/O: put it behind a port.',
            },
            {
              group: [
                '**/lib/**',
                '**/lambdas/**',
                '**/local/**',
                '**/bin/**',
                '../../edge/**',
                '../../model/**',
              ],
              message: 'core/ imports nothing from the layers above it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/local/**', '**/lambdas/**', '**/edge/**'],
              message: 'lib/ is infrastructure: it references lambdas by entry path only.',
            },
          ],
        },
      ],
    },
  },
  {
    // The agent ships to devices as one small file: core and its own adapters only.
    files: ['edge/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@duckdb/*', 'aedes'],
              message: 'edge/ runs on devices: no cloud SDKs, CDK or local stand-ins.',
            },
            {
              group: ['**/lib/**', '**/lambdas/**', '**/local/**', '**/bin/**', '**/model/**'],
              message: 'edge/ imports core/ only.',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
