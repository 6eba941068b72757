import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Inside this checkout the public entry points are the sources (installed, they are dist/).
const source = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^statearb\/testing$/, replacement: source('./src/testing/index.ts') },
      { find: /^statearb$/, replacement: source('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // A user's project around the packed package (scripts/pack-check.mjs runs it there).
    exclude: ['test/package/consumer/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
