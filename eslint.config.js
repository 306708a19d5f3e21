// Lint: ESLint with typescript-eslint's recommended rules, and the layering of the workspaces, run by `npm run verify`.
import tseslint from 'typescript-eslint';

const WORKSPACES = ['packages/contracts', 'packages/store', 'packages/source', 'packages/testkit', 'webhook-app', 'reconciler', 'agent', 'runtime', 'cli'];
const FOLDERS = WORKSPACES.map((w) => w.split('/').pop());

/** Nobody reaches into another workspace: no @wharf/x/src/…, no relative path into x/src, x/test or x/bench. */
const noInternals = [
  { group: ['@wharf/*/src', '@wharf/*/src/**', '@wharf/*/test', '@wharf/*/test/**', '@wharf/*/bench/**'], message: "import a workspace by its package name and public exports, not its internals" },
  {
    group: FOLDERS.flatMap((f) => [`**/${f}/src/**`, `**/${f}/test/**`, `**/${f}/bench/**`]),
    message: "another workspace's src/, test/ or bench/ is not an import: use its package's exports (test helpers live in @wharf/testkit)",
  },
];
/** Only packages/store talks SQL (a LISTEN connection too goes through store's listen()). */
const noSql = { group: ['slonik', 'slonik/**', 'pg', 'pg/**', 'pg-*'], message: 'only packages/store talks SQL: use @wharf/store' };
/** Test helpers and seeding never ship. */
const noTestOnly = { group: ['@wharf/testkit', '@wharf/store/testing'], message: 'test helpers are for test/ and bench/ only' };

const restrict = (...patterns) => ['error', { patterns }];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.wharf/**', '**/.tsbuild/**', '**/.build/**', '**/generated/**', '**/fixtures/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Test doubles and JSON payloads are typed loosely on purpose in a few places.
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `let app!: App` assigned once but read earlier by a closure (late binding) is fine.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // Layering. The reference runtime is a program of its own (its database modules serve apps, not Wharf).
  { files: ['**/*.ts'], ignores: ['runtime/**', 'packages/store/**'], rules: { 'no-restricted-imports': restrict(...noInternals, noSql) } },
  { files: ['**/src/**/*.ts'], ignores: ['runtime/**', 'packages/store/**', 'packages/testkit/**'], rules: { 'no-restricted-imports': restrict(...noInternals, noSql, noTestOnly) } },
  { files: ['packages/store/**/*.ts'], rules: { 'no-restricted-imports': restrict(...noInternals) } },
  { files: ['packages/store/src/**/*.ts'], ignores: ['packages/store/src/testing.ts', 'packages/store/src/server-admin.ts'], rules: { 'no-restricted-imports': restrict(...noInternals, noTestOnly) } },
  {
    files: ['packages/contracts/**/*.ts'],
    rules: { 'no-restricted-imports': restrict(...noInternals, { group: ['@wharf/*', '@wharf/**'], message: 'packages/contracts imports nothing of Wharf’s' }, noSql) },
  },
);
