import { gzipSync } from 'node:zlib'
import { PROVIDERS } from '@keyway/cli'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { entryOf } from './workspace-packages.js'

/**
 * Bytes, minified and gzipped, of each adapter's entry bundled with every dependency
 * (core, ky, p-retry, valibot). The target was 10 KB; ky, p-retry and valibot alone take
 * about 8 KB of it, so the budget sits just above today's size to catch growth. Create
 * markers with their reconcile, and the valibot checks of every setting, option and
 * credential, added about 3 KB; "a key like this one" and OpenRouter's workspaces and
 * guardrails about 1 KB more; spend, workspaces, descriptors and the resume's key identity
 * checks about 1 KB more; the store's own rules shared with every rotation entry point (a
 * secret refused as an id, errors redacted down their cause chain) about 0.25 KB more;
 * delivery targets (their steps in the rotation, the resume of a part-delivered key, per-key
 * targets) about 1.5 KB more; the store's account fingerprint about 0.3 KB more; operations
 * a vendor may lack (create, update, delete) and archived keys about 0.1 KB more; ids and
 * input refused where they hold part of a known secret about 0.4 KB more. With the adapter
 * kit in its own entry and core's ESM build one file per module, an adapter leaves rotation,
 * fleets and targets out: about 2.5 KB less (21-23 KB). ky, p-retry and valibot are about
 * 10 KB of what is left. The vendor's create and update fields, setting flags and leak
 * rules in its descriptor, and the one marker-settling engine, about 1 KB more (22.8-24.2 KB).
 */
const BUDGET_BYTES = 25 * 1024

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
  it.each([
    // Every vendor of the CLI's registry.
    ...Object.keys(PROVIDERS),
    'target-vercel',
    'target-vault',
    // SigV4 (aws4fetch) adds about 3 KB to what the Vercel target bundles to.
    'target-aws',
  ])(
    `@keyway/%s bundles to at most ${BUDGET_BYTES / 1024} KB min+gzip, dependencies included`,
    async (name) => {
      const size = await bundledSize(entryOf(name))
      expect(size.gzipped).toBeGreaterThan(1024)
      expect(size.gzipped).toBeLessThanOrEqual(BUDGET_BYTES)
    },
  )

  // The sealed box (tweetnacl and its sealed-box wrapper) adds about 14 KB to what the Vercel
  // target, which needs nothing beyond core, bundles to.
  it('@keyway/target-github bundles to at most 35 KB min+gzip, its sealed box included', async () => {
    const size = await bundledSize(entryOf('target-github'))
    expect(size.gzipped).toBeGreaterThan(BUDGET_BYTES)
    expect(size.gzipped).toBeLessThanOrEqual(35 * 1024)
  })

  // The kubeconfig reader (js-yaml) adds about 14 KB, the TLS fetch for a cluster's own CA
  // about 1 KB, to what the Vercel target bundles to.
  it('@keyway/target-kubernetes bundles to at most 38 KB min+gzip, its YAML reader included', async () => {
    const size = await bundledSize(entryOf('target-kubernetes'))
    expect(size.gzipped).toBeGreaterThan(BUDGET_BYTES)
    expect(size.gzipped).toBeLessThanOrEqual(38 * 1024)
  })
})
