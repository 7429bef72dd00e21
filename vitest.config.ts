import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Property and fuzz suites are CPU-bound; two workers match the CI machine's two cores.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Measured by the full test command (scripts/test.sh: vitest run --coverage); docs/security/coverage.md
    // lists what the money paths leave uncovered.
    coverage: {
      provider: "v8",
      include: ["src/**"],
      reporter: ["text-summary", "json-summary", "json"],
      reportsDirectory: "coverage",
      // Report even when a test failed: CI shows the numbers of every full run.
      reportOnFailure: true,
      thresholds: { lines: 85 },
    },
  },
})
