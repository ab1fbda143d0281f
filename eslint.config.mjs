// @ts-check
import jupyter from '@jupyter/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/lib/',
    '**/*.d.ts',
    'coverage/',
    '.stack/',
    'jupyterlab_hpc_bridge/',
    'stack/lab/build/',
    'stack/lab/core/',
    'server-bridge/lib/',
    'ui-tests/test-results/',
    'ui-tests/playwright-report/'
  ]),
  tseslint.configs.recommended,
  { plugins: { jupyter } },
  {
    files: ['**/*.{ts,tsx,js,jsx,mjs,cjs}'],
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: { regex: '^I[A-Z]', match: true }
        }
      ],
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { args: 'none', caughtErrors: 'none' }
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  },
  ...jupyter.configs.recommended,
  {
    // The bridge and the stack scripts are not JupyterLab code.
    files: ['server-bridge/**', 'stack/**', 'scripts/**', 'bench/**'],
    rules: {
      'jupyter/no-untranslated-string': 'off',
      'jupyter/prefer-lazy-imports': 'off'
    }
  },
  {
    // Tests hold fixtures, not user-facing text.
    files: ['**/__tests__/**', 'ui-tests/**', '**/test/**'],
    rules: { 'jupyter/no-untranslated-string': 'off' }
  },
  {
    // Node scripts and config files (CommonJS).
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  prettier
);
