import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

/**
 * Bytes, minified and gzipped, of each adapter's entry bundled with every dependency
 * (core, ky, p-retry, valibot). The target was 10 KB; ky, p-retry and valibot alone take
 * about 8 KB of it, so the budget sits just above today's size to catch growth. Create
 * markers with their reconcile, and the valibot checks of every setting, option and
 * credential, added about 3 KB; "a key like this one" and OpenRouter's workspaces and
 * guardrails about 1 KB more; spend, workspaces, descriptors and the resume's key identity
 * checks about 1 KB more; operations a vendor may lack (create, update, delete) and archived
 * keys 0.1 KB more, which took OpenRouter's bundle just past 23 KB (23,646 bytes).
 */
const BUDGET_BYTES = 24 * 1024

async function bundledSize(entry: string): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length }
}

describe('bundle size budget', () => {
  it.each(['openrouter', 'latitudesh', 'notedx', 'voiceable', 'anthropic'])(
    '@keyway/%s bundles to at most 24 KB min+gzip, dependencies included',
    async (name) => {
      const entry = import.meta.resolve(`@keyway/${name}`)
      const size = await bundledSize(new URL(entry).pathname)
      expect(size.gzipped).toBeGreaterThan(1024)
      expect(size.gzipped).toBeLessThanOrEqual(BUDGET_BYTES)
    },
  )
})
