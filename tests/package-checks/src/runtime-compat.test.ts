import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Node 22 and 24 come from the npm registry (tools/node-runtimes, Linux x64 builds).
const runtimes: Array<[string, string]> = [
  ['20 (this process)', process.execPath],
  ['22', here('../../../tools/node-runtimes/node_modules/node-22/bin/node')],
  ['24', here('../../../tools/node-runtimes/node_modules/node-24/bin/node')],
]

function runNode(
  node: string,
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, [here(`./smoke/${script}`)], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : 1, stdout, stderr }),
    )
  })
}

describe.each(runtimes)('built packages on Node %s', (_label, node) => {
  const available = existsSync(node)
  it.skipIf(!available).each(['smoke.mjs', 'smoke.cjs'])(
    'create, list and rotate through %s',
    async (script) => {
      const run = await runNode(node, script)
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const seen = JSON.parse(run.stdout) as Record<string, unknown>
      expect(seen.entry).toBe(script.endsWith('.mjs') ? 'esm' : 'cjs')
      for (const vendor of ['openrouter', 'latitudesh']) {
        expect(seen[vendor]).toEqual({ secretIsSecret: true, listed: true, rotated: true })
      }
    },
  )

  it.skipIf(!available)('is the Node version it claims', async () => {
    const version = await new Promise<string>((resolve) =>
      execFile(node, ['--version'], (_error, stdout) => resolve(stdout.trim())),
    )
    expect(version).toMatch(_label.startsWith('20') ? /^v20\./ : new RegExp(`^v${_label}\\.`))
  })
})
