/**
 * Which test files are unit tests: they need neither PostgreSQL nor RabbitMQ (some run local
 * binaries: promtool, amtool, Prometheus, Alertmanager). `npm run test:unit` runs these,
 * `npm run test:integration` everything else, `npm test` both. A new test file is an integration
 * test until it is listed here; CI's unit job has no database or broker, so a file listed here that
 * needs one fails there.
 */
export const UNIT_TESTS = [
  "tests/chaos/plan.test.ts",
  "tests/delivery/images.test.ts",
  "tests/delivery/image-commands.test.ts",
  "tests/delivery/workflows.test.ts",
  "tests/delivery/procedures.test.ts",
  "tests/docs/readme-facts.test.ts",
  "tests/e2e/prometheus.test.ts",
  "tests/foundation/metric-catalog.test.ts",
  "tests/foundation/request-log.test.ts",
  "tests/foundation/synth-cli.test.ts",
  "tests/infra/**/*.test.ts",
  "tests/jobs/retry-policy.test.ts",
  "tests/model/**/*.test.ts",
  "tests/monitoring/**/*.test.ts",
  "tests/ops/digest.test.ts",
  "tests/pipeline/domain.test.ts",
  "tests/pipeline/fetch.test.ts",
];
