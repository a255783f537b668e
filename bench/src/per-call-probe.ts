// Runs in a fresh process against an emulator in another process: times `get` and `list` for
// each contender, interleaved in rounds, and prints each one's median µs per call as JSON.
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { OpenRouter } from '@openrouter/sdk'
import ky from 'ky'
import { interleave, median } from './stats.js'

interface ProbeOptions {
  baseUrl: string
  managementKey: string
  calls: number
  rounds: number
}

const { baseUrl, managementKey, calls, rounds } = JSON.parse(
  process.argv[2] ?? '{}',
) as ProbeOptions
const headers = { authorization: `Bearer ${managementKey}`, accept: 'application/json' }
const store = createOpenRouterKeyStore({ baseUrl, managementKey })
const sdk = new OpenRouter({ apiKey: managementKey, serverURL: baseUrl })
const [first] = await store.list()
const id = first?.id as string
const workspacesUrl = `${baseUrl}/workspaces?offset=0&limit=100`
const keysUrl = (workspace: string) =>
  `${baseUrl}/keys?include_disabled=true&offset=0&workspace_id=${workspace}`

const rawJson = async (url: string) => JSON.parse(await (await fetch(url, { headers })).text())
const kyJson = (url: string) => ky.get(url, { headers, retry: 0, timeout: false }).json<unknown>()

// Every contender lists the whole account the way keyway's `list` does: every page of the
// workspaces, then every page of each one's keys (with the probe's few keys, one page each).
type Workspaces = { data: Array<{ id: string }> }

/** The SDK's own methods walking what keyway's `list` walks: workspaces, then keys by offset. */
async function listWithSdk(): Promise<number> {
  let count = 0
  for await (const page of await sdk.workspaces.list({ limit: 100 })) {
    for (const workspace of page.result.data) {
      for (let offset = 0; ; offset += 100) {
        const keys = await sdk.apiKeys.list({
          includeDisabled: true,
          workspaceId: workspace.id,
          offset,
        })
        count += keys.data.length
        if (keys.data.length < 100) break
      }
    }
  }
  return count
}
const contenders: Record<string, Record<'get' | 'list', () => Promise<unknown>>> = {
  'raw fetch': {
    get: () => rawJson(`${baseUrl}/keys/${id}`),
    list: async () => {
      for (const workspace of ((await rawJson(workspacesUrl)) as Workspaces).data)
        await rawJson(keysUrl(workspace.id))
    },
  },
  'ky alone': {
    get: () => kyJson(`${baseUrl}/keys/${id}`),
    list: async () => {
      for (const workspace of ((await kyJson(workspacesUrl)) as Workspaces).data)
        await kyJson(keysUrl(workspace.id))
    },
  },
  keyway: {
    get: () => store.get(id),
    list: () => store.list(),
  },
  '@openrouter/sdk': {
    get: () => sdk.apiKeys.get({ hash: id }),
    list: listWithSdk,
  },
}

// Equal work: the SDK's walk sees exactly the keys keyway's list does.
const keywayCount = (await store.list()).length
const sdkCount = await listWithSdk()
if (sdkCount !== keywayCount)
  throw new Error(`the SDK listed ${sdkCount} keys, keyway ${keywayCount}`)

const result: Record<string, Record<string, number>> = {}
for (const operation of ['get', 'list'] as const) {
  const repeated = Object.fromEntries(
    Object.entries(contenders).map(([name, calls_]) => [
      name,
      async () => {
        for (let index = 0; index < calls; index++) await calls_[operation]()
      },
    ]),
  )
  // Warm-up: one round, not counted.
  await interleave(repeated, 1)
  const timings = await interleave(repeated, rounds)
  result[operation] = Object.fromEntries(
    Object.entries(timings).map(([name, values]) => [name, (median(values) * 1000) / calls]),
  )
}
console.log(JSON.stringify(result))
