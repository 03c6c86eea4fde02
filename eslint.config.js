import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

// `import { z }` makes zod's whole namespace a value, so esbuild keeps all of it in every Lambda bundle
// (its 40 error-message locales among it): 740-850 kB bundles against 381-486 kB with `import * as z`.
const zodAsNamespace = {
  selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
  message: "import * as z from 'zod' (a named z keeps all of zod in every bundle)",
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'web/dist/', 'coverage/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', zodAsNamespace],
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
