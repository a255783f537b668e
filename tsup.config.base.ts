import { defineConfig } from 'tsup'

/** How every published library package builds: ESM and CommonJS, with types, for Node 20. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
