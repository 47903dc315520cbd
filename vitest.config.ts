import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Generates the Prisma client when it is missing or older than schema.prisma.
    globalSetup: ["./tests/global-setup.ts"],
    // Integration tests talk to the real Postgres and RabbitMQ on this machine; each test
    // file creates its own database and queue names, so files can run in parallel.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./tests/summary-reporter.ts"],
  },
});
