/**
 * Writes `keyway.config.schema.json` from the valibot schema the CLI checks a config with
 * (`pnpm schema`). The config's tests fail while the file differs from what this writes.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configJsonSchema } from '../src/config/config-json-schema.js'

const file = fileURLToPath(new URL('../keyway.config.schema.json', import.meta.url))
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
// The repository's formatter has the last word on layout (the test compares content only).
execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'inherit' })
