// Flat ESLint config: typescript-eslint strict rules plus Nx module boundaries.
// `npm run lint` computes Nx's project graph first: without a cached graph the boundary rule is
// silently skipped. The boundary matrix is the architecture: contracts depend on nothing, infra libs on
// contracts, the schedulers (batching) on contracts alone, only the model runtime touches
// onnxruntime-node, the job-API client speaks HTTP only, the benches are a library of their own that
// the CLI app mounts, apps sit on top.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    // AssemblyScript (function decorators such as @inline) is compiled by asc, not checked as TypeScript.
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.nx/**',
      '.hotpath/**',
      'models/**',
      'bench-results/**',
      'libs/model-runtime/assembly/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { disallowTypeAnnotations: false, fixStyle: 'inline-type-imports' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'Export by name; `export *` hides what a module offers.',
        },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            {
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: [
                '@nestjs/*',
                'bullmq',
                'ioredis',
                'onnxruntime-*',
                'fastify',
                'prom-client',
                '@opentelemetry/*',
              ],
            },
            {
              sourceTag: 'type:infra',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:infra'],
              bannedExternalImports: ['@nestjs/*', 'onnxruntime-*'],
            },
            {
              // Tokenizers: shared by the runtime (workers) and the API (tokenize routes), no runtime.
              sourceTag: 'type:tokenizer',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'bullmq', 'ioredis', 'onnxruntime-*'],
            },
            {
              // The two schedulers (micro-batching, continuous batching): pure scheduling over
              // contracts, no I/O and no telemetry, so they run in replica threads and on the main
              // thread alike and report what they ran by callback.
              sourceTag: 'type:batching',
              onlyDependOnLibsWithTags: ['type:contracts'],
              bannedExternalImports: [
                '@nestjs/*',
                'bullmq',
                'ioredis',
                'onnxruntime-*',
                '@opentelemetry/*',
                'prom-client',
              ],
            },
            {
              sourceTag: 'type:runtime',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:tokenizer', 'type:batching'],
              bannedExternalImports: ['@nestjs/*', 'bullmq', 'ioredis'],
            },
            {
              // The typed client of the job API (benches, e2e harness): HTTP and the contracts, nothing else.
              sourceTag: 'type:client',
              onlyDependOnLibsWithTags: ['type:contracts'],
              bannedExternalImports: ['@nestjs/*', 'bullmq', 'ioredis', 'onnxruntime-*'],
            },
            {
              // The CLI's command contract (CliCommand, UsageError), shared by the CLI app and the benches.
              sourceTag: 'type:cli-kit',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'bullmq', 'ioredis', 'onnxruntime-*'],
            },
            {
              // `hotpath bench …`: drives real clusters (child processes) through the job client, and
              // measures the runtime in-process; never imports the API or the worker.
              sourceTag: 'type:bench',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:infra',
                'type:runtime',
                'type:tokenizer',
                'type:batching',
                'type:client',
                'type:cli-kit',
              ],
              bannedExternalImports: ['@nestjs/*', 'onnxruntime-*'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:infra',
                'type:runtime',
                'type:tokenizer',
                'type:batching',
                'type:cli-kit',
                'type:bench',
                'type:client',
              ],
              bannedExternalImports: ['onnxruntime-*'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:e2e-harness', 'type:client'],
              bannedExternalImports: ['onnxruntime-*', '@nestjs/*'],
            },
            {
              // What e2e projects share (private clusters of real processes, HTTP client, waits):
              // it drives the built apps as child processes and never imports them.
              sourceTag: 'type:e2e-harness',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:infra', 'type:client'],
              bannedExternalImports: ['onnxruntime-*', '@nestjs/*'],
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI's bin shim is CommonJS on purpose: it runs before anything is compiled or loaded.
    files: ['apps/*/bin/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  prettier,
);
