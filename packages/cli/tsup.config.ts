import { defineConfig } from 'tsup'
import packageJson from './package.json' with { type: 'json' }

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The version is read from package.json once, here: `src/version.ts` names it.
  define: { __PACKAGE_VERSION__: JSON.stringify(packageJson.version) },
})
