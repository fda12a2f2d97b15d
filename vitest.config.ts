import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Optimised ORT graphs the tests' trainers keep go to a scratch folder, not the user's cache.
    env: { PTYCHO_ORT_CACHE_DIR: join(tmpdir(), 'ptycho-study-test-ort-cache') },
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
