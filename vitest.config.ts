import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/browser/**'] } },
      {
        // The web app in Debian's Chromium against an embedded stack; builds web/dist first if it is stale.
        extends: true,
        // One process for these files (isolate: false), so the stack's modules are loaded once, not per file.
        test: { name: 'web', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/browser/global-setup.ts'], testTimeout: 60_000, hookTimeout: 60_000, isolate: false },
      },
    ],
  },
});
