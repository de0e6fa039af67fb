// Lint: typescript-eslint's recommended rules, React hooks, and the engine's layering:
// no import cycles anywhere, the shared core imports no task, and no task imports another.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import reactHooks from 'eslint-plugin-react-hooks';

/** Task folders of the engine: each may import the core, none may import another task. */
const TASKS = ['poly', 'lm'];

/** `task` or `….task` compared with a task's name, either way round, and `case 'lm':` of a switch on either. */
const TASK_NAME = `/^(${TASKS.join('|')})$/`;
const TASK_VALUE = (side) => `:matches([${side}.type='Identifier'][${side}.name='task'], [${side}.type='MemberExpression'][${side}.property.name='task'])`;
const ASK_THE_TASK =
  'ask the task instead of comparing its name: engine/tasks.ts (TASK_INFO), ui/tasks.ts (UI_TASKS), ui/components/task-parts.tsx (TASK_PARTS) or cli/tasks.ts (CLI_TASKS)';

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
  // A third task is one folder and one entry per descriptor: no branch on a task's name.
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/cli/**/*.ts', 'src/engine/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: `BinaryExpression[operator=/^[!=]==?$/]${TASK_VALUE('left')}[right.value=${TASK_NAME}]`, message: ASK_THE_TASK },
        { selector: `BinaryExpression[operator=/^[!=]==?$/]${TASK_VALUE('right')}[left.value=${TASK_NAME}]`, message: ASK_THE_TASK },
        {
          selector: `SwitchStatement:matches([discriminant.name='task'], [discriminant.property.name='task']) > SwitchCase[test.value=${TASK_NAME}]`,
          message: ASK_THE_TASK,
        },
      ],
    },
  },
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error' },
  },
);
