import { defineConfig, mergeConfig } from 'vitest/config'
import base from '../../vitest.config.base'

export default mergeConfig(base, defineConfig({ test: { globalSetup: ['src/install-tmux.ts'] } }))
