import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.config.base'
import packageJson from './package.json' with { type: 'json' }

export default mergeConfig(
  base,
  defineConfig({ define: { __PACKAGE_VERSION__: JSON.stringify(packageJson.version) } }),
)
