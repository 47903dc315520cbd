import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The whole-platform e2e cases take minutes: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: ["tests/e2e-platform/**", "node_modules/**"],
    // Integration tests talk to the real Postgres and RabbitMQ on this machine; each test
    // file creates its own database and queue names, so files can run in parallel.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
