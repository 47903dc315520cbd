import { defineConfig } from "vitest/config";

/**
 * npm run test:e2e: the whole platform running (scripts/local/platform.ts) and real faults that
 * must become the right page. Files run one after another: each starts a full platform.
 */
export default defineConfig({
  test: {
    include: ["tests/e2e-platform/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: "forks",
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
