// keyway's benchmarks: per-call overhead, bulk listing, batch rotation under a rate limit,
// bundle size, cold start, and the lost-create safety comparison with the official SDK.
// Everything runs against loopback emulators. Results: bench/results.json and a table.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { PROVIDERS } from '@keyway/cli'
import { rotateKeys } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { startEmulator } from '@keyway/testkit'
import { OpenRouter } from '@openrouter/sdk'
import { build } from 'esbuild'
import { runScript, startEmulatorProcess } from './child-process.js'
import { perCallRepeats, summarize } from './per-call.js'
import { updateReadme } from './readme-section.js'
import {
  BATCH_KEYS,
  batchRotation as batchRequests,
  ROTATION_VENDORS,
  singleRotation,
} from './requests-per-rotation.js'
import { interleave, median, range, round2 } from './stats.js'

interface Result {
  name: string
  contenders: string[]
  unit: string
  medians: Record<string, number>
  /** Each contender's min–max over repeats (fresh processes) or rounds. */
  spread?: Record<string, [number, number]>
  ratio: number | null
  /** The ratio's min–max over repeats or rounds, each computed within one. */
  ratioSpread?: [number, number]
  target: string
  met: boolean | null
  rounds: number
  note?: string
}

const results: Result[] = []
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const PER_CALL = { repeats: 5, calls: 300, rounds: 5 }

async function perCallOverhead(): Promise<void> {
  const processes = await perCallRepeats(PER_CALL.repeats, PER_CALL)
  const contenders = ['keyway', '@openrouter/sdk', 'ky alone', 'raw fetch']
  for (const operation of ['get', 'list'] as const) {
    const of = (name: string) => processes.map((result) => result[operation][name] as number)
    const medians: Record<string, number> = {}
    const spread: Record<string, [number, number]> = {}
    for (const name of contenders) {
      const summary = summarize(of(name))
      medians[name] = summary.median
      spread[name] = summary.spread
    }
    const ratioOf = (a: string, b: string) =>
      summarize(of(a).map((value, index) => value / (of(b)[index] as number)))
    const rows: Array<[string, string, string, number]> = [
      [
        operation === 'get'
          ? "per-call: store.get() vs the official SDK's apiKeys.get"
          : "per-call: store.list() vs the official SDK's workspaces.list + apiKeys.list",
        '@openrouter/sdk',
        'ratio keyway ÷ SDK ≤ 1.00',
        1.0,
      ],
      [
        `per-call: keyway's own layers on ${operation} (keyway ÷ ky alone)`,
        'ky alone',
        'ratio keyway ÷ ky alone ≤ 1.10',
        1.1,
      ],
    ]
    for (const [name, against, target, limit] of rows) {
      const ratio = ratioOf('keyway', against)
      results.push({
        name: `${name}; ${PER_CALL.calls} sequential calls a round, ${PER_CALL.rounds} interleaved rounds, ${PER_CALL.repeats} fresh processes, emulator in its own process`,
        contenders,
        unit: 'µs per call',
        medians,
        spread,
        ratio: ratio.median,
        ratioSpread: ratio.spread,
        target,
        met: ratio.median <= limit,
        rounds: PER_CALL.repeats,
        ...(operation === 'list'
          ? {
              note: 'every contender lists every page of the workspaces, then every page of each workspace’s keys, as keyway’s list does (2 requests here: one workspace, 3 keys)',
            }
          : {}),
      })
    }
    results.push({
      name: `per-call: ky alone and keyway over raw fetch + JSON.parse on ${operation} (same runs)`,
      contenders: ['keyway ÷ raw', 'ky alone ÷ raw', 'SDK ÷ raw'],
      unit: '× raw',
      medians: {
        'keyway ÷ raw': ratioOf('keyway', 'raw fetch').median,
        'ky alone ÷ raw': ratioOf('ky alone', 'raw fetch').median,
        'SDK ÷ raw': ratioOf('@openrouter/sdk', 'raw fetch').median,
      },
      spread: {
        'keyway ÷ raw': ratioOf('keyway', 'raw fetch').spread,
        'ky alone ÷ raw': ratioOf('ky alone', 'raw fetch').spread,
        'SDK ÷ raw': ratioOf('@openrouter/sdk', 'raw fetch').spread,
      },
      ratio: null,
      target: 'reported (no target)',
      met: null,
      rounds: PER_CALL.repeats,
    })
  }
}

async function bulkListing(): Promise<void> {
  const emulator = await startEmulatorProcess({ seedKeys: 10_000 })
  const { baseUrl, managementKey } = emulator.settings
  const store = createOpenRouterKeyStore({ baseUrl, managementKey })
  const headers = { authorization: `Bearer ${managementKey}` }
  const rounds = 7
  const getJson = async (url: string) => JSON.parse(await (await fetch(url, { headers })).text())
  let timings: Record<string, number[]>
  try {
    timings = await interleave(
      {
        'keyway iterate()': async () => {
          let count = 0
          for await (const _key of store.iterate()) count++
          if (count !== 10_000) throw new Error(`iterate saw ${count} keys`)
        },
        // The same requests iterate() makes: the workspaces, then each one's pages.
        'raw fetch loop': async () => {
          let count = 0
          const workspaces = (await getJson(`${baseUrl}/workspaces?offset=0&limit=100`)) as {
            data: Array<{ id: string }>
          }
          for (const workspace of workspaces.data) {
            for (let offset = 0; ; offset += 100) {
              const page = (await getJson(
                `${baseUrl}/keys?include_disabled=true&offset=${offset}&workspace_id=${workspace.id}`,
              )) as { data: unknown[] }
              count += page.data.length
              if (page.data.length < 100) break
            }
          }
          if (count !== 10_000) throw new Error(`raw loop saw ${count} keys`)
        },
      },
      rounds,
    )
  } finally {
    await emulator.stop()
  }
  const keywayTimes = timings['keyway iterate()'] ?? []
  const rawTimes = timings['raw fetch loop'] ?? []
  const ratio = summarize(keywayTimes.map((value, index) => value / (rawTimes[index] as number)))
  results.push({
    name: `bulk listing: 10,000 OpenRouter keys (101 pages and the workspace list), ${rounds} interleaved rounds, emulator in its own process`,
    contenders: ['keyway iterate()', 'raw fetch loop'],
    unit: 'ms',
    medians: {
      'keyway iterate()': round2(median(keywayTimes)),
      'raw fetch loop': round2(median(rawTimes)),
    },
    spread: { 'keyway iterate()': range(keywayTimes), 'raw fetch loop': range(rawTimes) },
    ratio: ratio.median,
    ratioSpread: ratio.spread,
    target: 'ratio ≤ 1.30',
    met: ratio.median <= 1.3,
    rounds,
  })
  const iterate = await runScript<{ peakGrowthBytes: number }>('./heap-probe.ts', ['iterate'])
  const list = await runScript<{ peakGrowthBytes: number }>('./heap-probe.ts', ['list'])
  results.push({
    name: 'bulk listing: peak heap growth over 10,000 keys (fresh process each)',
    contenders: ['iterate()', 'list()'],
    unit: 'MB',
    medians: {
      'iterate()': round2(iterate.peakGrowthBytes / 1e6),
      'list()': round2(list.peakGrowthBytes / 1e6),
    },
    ratio: round2(iterate.peakGrowthBytes / list.peakGrowthBytes),
    target: 'iterate() flat (one page), list() grows with the key count',
    met: iterate.peakGrowthBytes * 5 < list.peakGrowthBytes,
    rounds: 1,
  })
}

async function batchRotation(): Promise<void> {
  const keys = 200
  const writesPerSecond = 100
  const emulator = await startEmulator('openrouter', {
    seedKeys: keys,
    rateLimit: { write: { requests: writesPerSecond, windowMs: 1000 } },
  })
  const { baseUrl, managementKey } = emulator.settings as { baseUrl: string; managementKey: string }
  // Paced a little under the vendor's rate, so fixed-window edges never trip a 429.
  const store = createOpenRouterKeyStore({
    baseUrl,
    managementKey,
    scheduler: { concurrency: 8, writesPerSecond: writesPerSecond * 0.97 },
  })
  const started = performance.now()
  const result = await rotateKeys(store, {
    deliver: () => {},
    concurrency: 8,
    verifyIntervalMs: 50,
  })
  const wall = (performance.now() - started) / 1000
  // Each rotation writes the create, the rename that settles its marker, and the delete.
  const writes = emulator.requests.filter((request) => request.method !== 'GET').length
  await emulator.close()
  const floor = round2(writes / writesPerSecond)
  results.push({
    name: `batch rotation: rotateKeys over ${keys} keys, vendor limit ${writesPerSecond} writes/s`,
    contenders: ['keyway rotateKeys', 'floor (writes / rate)'],
    unit: 's',
    medians: { 'keyway rotateKeys': round2(wall), 'floor (writes / rate)': floor },
    ratio: round2(wall / floor),
    target: 'ratio ≤ 1.25, zero failures',
    met: wall / floor <= 1.25 && result.failed === 0 && result.rotated === keys,
    rounds: 1,
    note: `${result.rotated} rotated, ${result.failed} failed`,
  })
}

/**
 * Requests one rotation sends, per vendor, before the rotation engine was rebuilt as a step
 * table (measured on that engine with these same functions) and now.
 */
const REQUESTS_BEFORE: Record<string, { single: number; batch: number }> = {
  openrouter: { single: 6, batch: 6.1 },
  latitudesh: { single: 7, batch: 7.2 },
  notedx: { single: 6, batch: 6.1 },
  voiceable: { single: 6, batch: 6.1 },
}

async function requestsPerRotation(): Promise<void> {
  for (const vendor of ROTATION_VENDORS) {
    const before = REQUESTS_BEFORE[vendor] as { single: number; batch: number }
    const single = await singleRotation(vendor)
    const batch = await batchRequests(vendor)
    results.push({
      name: `requests per rotation at ${vendor}: one rotateKey, and a key's share of a ${BATCH_KEYS}-key rotateKeys`,
      contenders: ['before, one', 'now, one', 'before, batch', 'now, batch'],
      unit: 'requests',
      medians: {
        'before, one': before.single,
        'now, one': single.requests,
        'before, batch': before.batch,
        'now, batch': batch.requests,
      },
      ratio: round2(batch.requests / before.batch),
      target: 'fewer requests than before',
      met: single.requests <= before.single && batch.requests < before.batch,
      rounds: 1,
      note: `writes: ${single.writes} per rotation, ${batch.writes} per key in a batch`,
    })
  }
}

async function gzippedBundle(contents: string, resolveDir: string): Promise<number> {
  const bundled = await build({
    stdin: { contents, resolveDir, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  })
  return gzipSync(bundled.outputFiles[0]?.contents ?? new Uint8Array(), { level: 9 }).length
}

async function bundleSize(): Promise<void> {
  const dir = here('.')
  const sdk = await gzippedBundle(
    ['Create', 'Delete', 'Get', 'GetCurrentKeyMetadata', 'List', 'Update']
      .map((name) => `export { apiKeys${name} } from '@openrouter/sdk/funcs/apiKeys${name}.js'`)
      .concat("export { OpenRouterCore } from '@openrouter/sdk/core.js'")
      .join('\n'),
    dir,
  )
  // Every vendor of the CLI's registry: its package, and its factory alone from it.
  for (const [name, factory] of Object.values(PROVIDERS).map(
    (provider) => [provider.id, provider.create.name] as const,
  )) {
    // Resolved from the package's own folder, as a user's bundler resolves its dependencies.
    const size = await gzippedBundle(
      `export { ${factory} } from './dist/index.js'`,
      here(`../../packages/${name}/`),
    )
    results.push({
      name: `bundle size: @keyway/${name}, min+gzip with every dependency`,
      contenders: [`@keyway/${name}`, '@openrouter/sdk key functions'],
      unit: 'KB',
      medians: {
        [`@keyway/${name}`]: round2(size / 1024),
        '@openrouter/sdk key functions': round2(sdk / 1024),
      },
      ratio: round2(size / sdk),
      target: '≤ 12 KB and ≤ 1/3 of the SDK’s key functions',
      met: size <= 12 * 1024 && size * 3 <= sdk,
      rounds: 1,
    })
  }
}

async function coldStart(): Promise<void> {
  const runs = 15
  const time = (specifier: string) => () =>
    new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', `await import('${specifier}')`],
        { cwd: here('..') },
        (error) => (error ? reject(error) : resolve()),
      ),
    )
  const timings = await interleave(
    {
      '@keyway/openrouter': time('@keyway/openrouter'),
      '@openrouter/sdk': time('@openrouter/sdk'),
    },
    runs,
  )
  const keyway = round2(median(timings['@keyway/openrouter'] ?? []))
  const sdk = round2(median(timings['@openrouter/sdk'] ?? []))
  results.push({
    name: 'cold start: import() in a fresh Node process (process start included)',
    contenders: ['@keyway/openrouter', '@openrouter/sdk'],
    unit: 'ms',
    medians: { '@keyway/openrouter': keyway, '@openrouter/sdk': sdk },
    ratio: round2(keyway / sdk),
    target: 'reported (no target)',
    met: null,
    rounds: runs,
  })
}

async function lostCreateSafety(): Promise<void> {
  const live: Record<string, number> = {}
  for (const contender of ['@openrouter/sdk apiKeys.create', 'keyway create']) {
    const emulator = await startEmulator('openrouter', { seedKeys: 0 })
    const { baseUrl, managementKey } = emulator.settings as {
      baseUrl: string
      managementKey: string
    }
    // The vendor makes the key, then the connection drops before the answer.
    emulator.inject({ match: { method: 'POST' }, drop: 'after' })
    try {
      if (contender === 'keyway create') {
        await createOpenRouterKeyStore({ baseUrl, managementKey }).create({ name: 'lost-answer' })
      } else {
        const sdk = new OpenRouter({ apiKey: managementKey, serverURL: baseUrl })
        await sdk.apiKeys.create({ requestBody: { name: 'lost-answer' } })
      }
    } catch {
      // Either may fail; what counts is what is left at the vendor.
    }
    live[contender] = emulator.control.keyIds().length
    await emulator.close()
  }
  results.push({
    name: 'safety: live keys left after one create whose answer was lost',
    contenders: Object.keys(live),
    unit: 'keys',
    medians: live,
    ratio: null,
    target: 'keyway leaves exactly 1',
    met: live['keyway create'] === 1,
    rounds: 1,
  })
}

const steps: Array<[string, () => Promise<void>]> = [
  ['per-call overhead', perCallOverhead],
  ['bulk listing', bulkListing],
  ['batch rotation', batchRotation],
  ['requests per rotation', requestsPerRotation],
  ['bundle size', bundleSize],
  ['cold start', coldStart],
  ['safety', lostCreateSafety],
]
for (const [label, step] of steps) {
  process.stderr.write(`running ${label}...\n`)
  await step()
}

const machine = {
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGb: round2(totalmem() / 2 ** 30),
}
await writeFile(
  here('../results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2)}\n`,
)

const rows = results.map((result) => [
  result.name,
  Object.entries(result.medians)
    .map(([name, value]) => {
      const spread = result.spread?.[name]
      return `${name}: ${value} ${result.unit}${spread ? ` (${spread[0]}–${spread[1]})` : ''}`
    })
    .join('; '),
  result.ratio === null
    ? '-'
    : `${result.ratio}${result.ratioSpread ? ` (${result.ratioSpread[0]}–${result.ratioSpread[1]})` : ''}`,
  `${result.target}${result.met === null ? '' : result.met ? ' (met)' : ' (missed)'}`,
])
console.log(
  `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GiB, Node ${machine.node}\n`,
)
for (const [name, medians, ratio, target] of rows)
  console.log(`${name}\n  ${medians}\n  ratio ${ratio}; target ${target}\n`)
await updateReadme(here('../results.json'), here('../../README.md'))
