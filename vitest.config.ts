import { defineConfig } from "vitest/config";
import { UNIT_TESTS } from "./tests/suites.js";

export default defineConfig({
  test: {
    // Generates the Prisma client when it is missing or older than schema.prisma.
    globalSetup: ["./tests/global-setup.ts"],
    // The whole-platform e2e cases take minutes: `npm run test:e2e` (vitest.e2e.config.ts).
    // Integration tests talk to the real Postgres and RabbitMQ on this machine; each test
    // file creates its own database and queue names, so files can run in parallel.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./tests/summary-reporter.ts"],
    // `npm test` runs both; CI runs them as separate jobs (tests/suites.ts).
    projects: [
      { extends: true, test: { name: "unit", include: UNIT_TESTS } },
      { extends: true, test: { name: "integration", include: ["tests/**/*.test.ts"], exclude: ["node_modules/**", "tests/e2e-platform/**", ...UNIT_TESTS] } },
    ],
  },
});
