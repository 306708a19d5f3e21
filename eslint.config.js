// Lint: ESLint with typescript-eslint's recommended rules, run by `npm run verify`.
import tseslint from 'typescript-eslint';

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
);
