import { defineConfig } from 'vitest/config';

// Source files are run as they are (export condition `@kwatch/source`), no build needed.
const sourceConditions = ['@kwatch/source', 'module', 'node', 'development|production'];
const shared = {
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@kwatch/source'] } },
};

export default defineConfig({
  ...shared,
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'examples/**/*.int.test.ts', 'soak/**/*.int.test.ts'],
          globalSetup: ['packages/testenv/src/vitestGlobalSetup.ts'],
          // One shared control plane; files that restart or compact it must not overlap others.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
