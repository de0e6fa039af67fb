// Lint: typescript-eslint's recommended rules, React hooks, and the engine's layering:
// no import cycles anywhere, the shared core imports no task, and no task imports another.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import reactHooks from 'eslint-plugin-react-hooks';

/** Task folders of the engine: each may import the core, none may import another task. */
const TASKS = ['poly', 'lm'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'public/**', 'tmp/**', 'e2e/screenshots/**'] },
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    files: ['**/*.{ts,tsx}'],
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            // The core knows no task and no method registry.
            {
              target: './src/engine/core',
              from: ['./src/engine/poly', './src/engine/lm', './src/engine/methods'],
              message: 'the core imports no task: move the shared piece into core/',
            },
            // A task never imports another task.
            ...TASKS.map((t) => ({
              target: `./src/engine/${t}`,
              from: TASKS.filter((o) => o !== t).map((o) => `./src/engine/${o}`),
              message: 'a task imports only the core: move the shared piece into core/',
            })),
            // The engine runs in a worker and in Node: no UI in it.
            { target: './src/engine', from: ['./src/ui', './src/worker', './src/cli'], message: 'the engine is pure TypeScript: no UI, worker or CLI imports' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error' },
  },
);
