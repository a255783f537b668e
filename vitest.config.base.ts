import { defineConfig } from 'vitest/config'

/**
 * How every package runs its tests: files beside the code, a JSON report that `.ci/run` adds
 * up, and time limits that only catch hangs. No test may depend on the machine's speed, so a
 * limit is generous enough never to fire on a slow or busy machine.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/vitest.json' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
