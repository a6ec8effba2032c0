// ESLint flat config. `tsc` is the type-checker; ESLint adds type information
// only where a rule needs it: the promise rules on lib/, nodes/ and sim/ (a
// promise nobody awaits or handles can take Node-RED down with an unhandled
// rejection). Tests, scripts and benches are linted without types (fast).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import noAwaitWhilePromiseUnhandled from './eslint/no-await-while-promise-unhandled.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.demo/**', '.work/**', 'coverage/**', 'resources/xterm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['lib/**/*.ts', 'nodes/**/*.ts', 'sim/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { local: { rules: { 'no-await-while-promise-unhandled': noAwaitWhilePromiseUnhandled } } },
    rules: {
      'local/no-await-while-promise-unhandled': 'error',
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Editor templates: the inline editor script is not linted yet (needs an HTML processor).
  { ignores: ['nodes/**/*.html'] },
);
