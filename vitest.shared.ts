import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const conditions = ['@pixelcnn/source', 'module', 'node', 'import', 'default'];

/**
 * Vitest config shared by every package: resolves sibling packages to their `src`
 * (the `@pixelcnn/source` export condition) so tests need no build, and prepares the
 * tfjs backends once per test file (packages/backend/src/testing/setup.ts).
 */
export function sharedConfig(overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@pixelcnn/source'] } },
    test: {
      pool: 'forks',
      testTimeout: 120_000,
      hookTimeout: 120_000,
      setupFiles: [
        fileURLToPath(new URL('./packages/backend/src/testing/setup.ts', import.meta.url)),
      ],
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      // The json report feeds scripts/test-summary.mjs (one "N passed, N failed" line for CI).
      reporters: ['default', 'json'],
      outputFile: { json: 'test-results/vitest.json' },
      ...overrides,
    },
  });
}
