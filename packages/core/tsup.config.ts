import { defineConfig } from 'tsup'

import packageJson from './package.json' with { type: 'json' }

const shared = {
  sourcemap: true,
  target: 'node20',
  clean: false,
  // The version is read from package.json once, here: `src/version.ts` names it.
  define: { __PACKAGE_VERSION__: JSON.stringify(packageJson.version) },
} as const

/**
 * Two entries: the user API (`src/index.ts`) and the adapter kit (`src/adapter.ts`).
 * ESM keeps one file per module, so a bundler that builds an adapter drops every module the
 * adapter does not reach (`sideEffects: false`): an adapter carries the kit, not rotation,
 * fleets or targets. CommonJS is bundled, with the modules both entries share split into one
 * chunk, so a class thrown through one entry is the class the other exports.
 */
export default defineConfig([
  {
    ...shared,
    entry: [
      'src/**/*.ts',
      '!src/**/*.test.ts',
      '!src/**/*.test-support.ts',
      '!src/test-helpers.ts',
    ],
    format: ['esm'],
    bundle: false,
    dts: { entry: ['src/index.ts', 'src/adapter.ts'] },
  },
  {
    ...shared,
    entry: ['src/index.ts', 'src/adapter.ts'],
    format: ['cjs'],
    splitting: true,
    dts: true,
  },
])
