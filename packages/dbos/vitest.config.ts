import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.config.base'

// The multi-worker tests live in test/: they start Postgres and worker processes.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 300_000,
      hookTimeout: 180_000,
    },
  }),
)
