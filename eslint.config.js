import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'web/dist/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The web app: the rules of hooks and the React Compiler's checks (effects, refs, purity of render).
    files: ['web/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },
  {
    // The domain is pure: no AWS SDK, no environment, no clock of its own.
    files: ['lib/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'node:*', '../adapters/*', '../local/*', '../infra/*'] }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'inject the clock' }, { object: 'process', property: 'env', message: 'pass configuration in' }],
    },
  },
);
