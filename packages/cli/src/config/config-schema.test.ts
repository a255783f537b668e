import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { PROVIDERS } from '../providers.js'
import { caseless, configJsonSchema } from './config-json-schema.js'
import { CREDENTIAL_SETS, configSchema, VENDOR_CREDENTIALS } from './config-schema.js'
import { parseConfig } from './load-config.js'
import { TARGET_KIND_IDS } from './target-kinds.js'

const fromRepository = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../../../${path}`, import.meta.url)), 'utf8')
// The file as published and as editors read it; a test below holds it to the valibot schema.
const jsonSchema = JSON.parse(fromRepository('packages/cli/keyway.config.schema.json'))
// Types left out where a `not` or an `if` reads a field only if present: strict about keywords, not types.
const validate = new Ajv({ allErrors: true, strictTypes: false }).compile(jsonSchema)

const store = (extra: Record<string, unknown> = {}) => ({
  label: 'openrouter-prod',
  vendor: 'openrouter',
  ...extra,
})
const config = (...stores: unknown[]) => ({ stores })
// Obviously fake values in the shapes of vendor secrets.
const FAKE_OPENROUTER = `sk-or-v1-${'0'.repeat(64)}`
const FAKE_LATITUDE = 'f'.repeat(36)
const FAKE_VOICEABLE = `pk_live_${'a'.repeat(64)}`

const valid: Array<[string, unknown]> = [
  ['one store, nothing else', config(store())],
  [
    'delivery targets of every kind, per store and per key',
    config(
      store({
        targets: [
          { kind: 'github', repository: 'acme/app', variable: 'OPENROUTER_{NAME}' },
          {
            kind: 'github',
            repository: 'acme/app',
            environment: 'production',
            keys: { name: 'app-*' },
            tokenEnv: 'GH_DEPLOY_TOKEN',
            baseUrlEnv: 'GITHUB_API_URL',
            confirmIntervalMs: 0,
          },
          {
            kind: 'github',
            organization: 'acme',
            visibility: 'selected',
            selectedRepositoryIds: [1, 2],
            keys: { ids: ['abc'] },
          },
          {
            kind: 'vercel',
            project: 'web',
            teamIdEnv: 'VERCEL_TEAM_ID',
            environments: ['production', 'preview'],
            type: 'sensitive',
            redeploy: true,
            keys: { metadata: { service: 'web' } },
            confirmWithinMs: 600000,
          },
          { kind: 'vercel', project: 'docs', teamId: 'team_abc', type: 'encrypted' },
          { kind: 'dotenv', path: '.secrets/app.env', variable: '{LABEL}_{ID}' },
          { kind: 'exec', command: './store-secret.sh' },
        ],
      }),
    ),
  ],
  [
    'a successor lifetime and limit',
    config(
      store({ rotation: { expiresIn: '90d', limit: 5 } }),
      store({ label: 'b', rotation: { limit: null } }),
    ),
  ],
  [
    'every field',
    {
      $schema: './node_modules/@keyway/cli/keyway.config.schema.json',
      journal: 'state/rotations.json',
      history: 'state/history.jsonl',
      policy: { maxAgeDays: 90, unusedDays: 30, expiringWithinDays: 0, requireLimitOrExpiry: true },
      failOn: ['too-old', 'unmanaged'],
      stores: [
        store({
          credentials: { managementKey: 'OPENROUTER_PROD_KEY' },
          baseUrlEnv: 'OPENROUTER_BASE_URL',
          select: { name: 'ci-*', olderThanDays: 0, status: 'any' },
          deliver: { to: 'secrets/openrouter.env', variable: 'OPENROUTER_{NAME}' },
          rotation: { retire: 'disable', graceMs: 0, concurrency: 1, allowSelf: true },
        }),
        {
          label: 'latitude',
          vendor: 'latitudesh',
          credentials: { token: 'LATITUDESH_BEARER' },
          deliver: { to: 'exec:./store-secret.sh', variable: '{PROVIDER}_{LABEL}_{ID}' },
        },
      ],
    },
  ],
  [
    'notedx with email and password',
    config({
      label: 'notedx',
      vendor: 'notedx',
      credentials: { email: 'NOTEDX_EMAIL', password: 'NOTEDX_PASSWORD' },
    }),
  ],
  [
    'voiceable with a key id',
    config({
      label: 'voice',
      vendor: 'voiceable',
      credentials: { apiKey: 'VOICEABLE_API_KEY', credentialKeyId: 'VOICEABLE_API_KEY_ID' },
    }),
  ],
  ['a whole number written as 1.0', config(store({ rotation: { concurrency: 1.0 } }))],
  [
    'a schedule, and a list of schedules by key',
    config(
      store({ schedule: { every: '30d', at: '03:00Z', window: '2h', lifetime: '45d' } }),
      store({
        label: 'b',
        schedule: [
          { keys: { name: 'ci-*', metadata: { team: 'ops' } }, every: '7d', at: '04:30+02:00' },
          { keys: { ids: ['abc'] }, every: '12h' },
          { every: '90m' },
        ],
      }),
    ),
  ],
]

const targets = (...entries: unknown[]) => config(store({ targets: entries }))

/** `data` passes the JSON Schema, and keyway refuses it with `message` (a check JSON Schema cannot make). */
function expectOnlyKeywayRefuses(data: unknown, message: string): void {
  expect(validate(data)).toBe(true)
  expect(() => parseConfig(JSON.stringify(data), 'keyway.config.json')).toThrow(
    `keyway.config.json: ${message}`,
  )
}

const invalid: Array<[string, unknown, string]> = [
  [
    'a target of an unknown kind',
    targets({ kind: 'netlify', project: 'web' }),
    'stores[0].targets[0].kind: expected a kind: one of github, vercel, dotenv, exec',
  ],
  [
    'a GitHub target naming both a repository and an organization',
    targets({ kind: 'github', repository: 'acme/app', organization: 'acme' }),
    'stores[0].targets[0]: needs either "repository" (with an optional "environment") or "organization"',
  ],
  [
    'a GitHub target with neither',
    targets({ kind: 'github' }),
    'stores[0].targets[0]: needs either',
  ],
  [
    "a GitHub secret named by the key's id (a new secret at every rotation)",
    targets({ kind: 'github', repository: 'acme/app', variable: 'KEY_{ID}' }),
    'stores[0].targets[0].variable: expected an env var name with {NAME}, {LABEL}, {PROVIDER} placeholders',
  ],
  [
    'a Vercel target without a project',
    targets({ kind: 'vercel', redeploy: true }),
    'stores[0].targets[0].project: required',
  ],
  [
    'a Vercel team given twice',
    targets({ kind: 'vercel', project: 'web', teamId: 'team_a', teamIdEnv: 'VERCEL_TEAM_ID' }),
    'stores[0].targets[0]: give "teamId" or "teamIdEnv", not both',
  ],
  [
    'a target token pasted into the file',
    targets({ kind: 'vercel', project: 'web', tokenEnv: FAKE_LATITUDE }),
    'stores[0].targets[0].tokenEnv: looks like a credential itself',
  ],
  [
    'an unknown field of a target',
    targets({ kind: 'dotenv', path: 'a.env', repository: 'acme/app' }),
    'stores[0].targets[0].repository: unknown field',
  ],
  [
    'a variable on an AWS target, which names its secret itself',
    targets({ kind: 'aws-secrets-manager', secretId: 'prod/web', variable: 'API_KEY' }),
    'stores[0].targets[0].variable: this kind takes no variable: the secret is `secretId`; to keep the key as one field of a JSON secret, use `jsonKey`',
  ],
  [
    'a variable on a Kubernetes target',
    targets({ kind: 'kubernetes-secret', secret: 'web', key: 'API_KEY', variable: 'API_KEY' }),
    "stores[0].targets[0].variable: this kind takes no variable: use `key`: the Secret's data entry that holds the key",
  ],
  [
    'a variable on a Vault target',
    targets({ kind: 'vault-kv', path: 'web/prod', key: 'API_KEY', variable: 'API_KEY' }),
    'stores[0].targets[0].variable: this kind takes no variable: use `key`: the field at `path` that holds the key',
  ],
  [
    'a GitHub environment without its repository',
    targets({ kind: 'github', organization: 'acme', environment: 'production' }),
    'stores[0].targets[0]: "environment" goes with "repository"',
  ],
  [
    'a Kubernetes context without kubeconfig auth',
    targets({
      kind: 'kubernetes-secret',
      secret: 'web',
      key: 'API_KEY',
      auth: 'token',
      context: 'prod',
    }),
    'stores[0].targets[0]: "context" goes with "auth": "kubeconfig"',
  ],
  [
    'a blank dotenv path',
    targets({ kind: 'dotenv', path: '   ' }),
    'stores[0].targets[0].path: expected a file path',
  ],
  ['no stores', {}, 'stores: required'],
  ['empty stores', config(), 'stores: expected at least one store'],
  ['unknown vendor', config(store({ vendor: 'acme' })), 'stores[0].vendor: expected one of'],
  ['unknown top-level field', { ...config(store()), polcy: {} }, 'polcy: unknown field'],
  ['unknown store field', config(store({ retire: 'delete' })), 'stores[0].retire: unknown field'],
  [
    'a credential pasted into the file (OpenRouter)',
    config(store({ credentials: { managementKey: FAKE_OPENROUTER } })),
    'stores[0].credentials.managementKey: looks like a credential itself',
  ],
  [
    'a credential pasted into the file (Latitude, shaped like an env var name)',
    config({ label: 'lat', vendor: 'latitudesh', credentials: { token: FAKE_LATITUDE } }),
    'stores[0].credentials.token: looks like a credential itself',
  ],
  [
    'a credential pasted into the file (Latitude, upper case)',
    config({
      label: 'lat',
      vendor: 'latitudesh',
      credentials: { token: FAKE_LATITUDE.toUpperCase() },
    }),
    'stores[0].credentials.token: looks like a credential itself',
  ],
  [
    'a credential pasted into the file as a base URL env var (Voiceable public key)',
    config(store({ baseUrlEnv: FAKE_VOICEABLE.toUpperCase() })),
    'stores[0].baseUrlEnv: looks like a credential itself',
  ],
  [
    'a credential pasted into the file (Voiceable public key)',
    config({ label: 'v', vendor: 'voiceable', credentials: { apiKey: FAKE_VOICEABLE } }),
    'stores[0].credentials.apiKey: looks like a credential itself',
  ],
  [
    'not an env var name',
    config(store({ credentials: { managementKey: 'my key' } })),
    'stores[0].credentials.managementKey: expected the name of an env var',
  ],
  [
    "another vendor's credential setting",
    config(store({ credentials: { token: 'LATITUDESH_BEARER' } })),
    'stores[0].credentials.token: unknown field',
  ],
  [
    'notedx with an email only',
    config({ label: 'n', vendor: 'notedx', credentials: { email: 'NOTEDX_EMAIL' } }),
    'stores[0].credentials: needs email and password, or idToken',
  ],
  [
    'wrong type',
    config(store({ rotation: { graceMs: '60s' } })),
    'stores[0].rotation.graceMs: expected number',
  ],
  [
    'a fraction',
    config(store({ rotation: { concurrency: 1.5 } })),
    'stores[0].rotation.concurrency: expected a whole number of at least 1',
  ],
  [
    'zero concurrency',
    config(store({ rotation: { concurrency: 0 } })),
    'stores[0].rotation.concurrency: expected a whole number of at least 1',
  ],
  [
    'allowSelf as text',
    config(store({ rotation: { allowSelf: 'yes' } })),
    'stores[0].rotation.allowSelf: expected boolean',
  ],
  [
    'unknown retire mode',
    config(store({ rotation: { retire: 'shred' } })),
    'stores[0].rotation.retire: expected',
  ],
  [
    'bad template',
    config(store({ deliver: { to: '.env', variable: 'OPENROUTER_{SECRET}' } })),
    'stores[0].deliver.variable: expected an env var name with',
  ],
  [
    'empty delivery target',
    config(store({ deliver: { to: '  ' } })),
    'stores[0].deliver.to: expected a dotenv file path',
  ],
  [
    'exec without a command',
    config(store({ deliver: { to: 'exec: ' } })),
    'stores[0].deliver.to: exec: needs a command',
  ],
  ['delivery without a target', config(store({ deliver: {} })), 'stores[0].deliver.to: required'],
  ['bad label', config(store({ label: 'prod keys' })), 'stores[0].label: expected letters, digits'],
  ['unknown finding kind', { ...config(store()), failOn: ['stale'] }, 'failOn[0]: expected'],
  [
    'unknown status',
    config(store({ select: { status: 'revoked' } })),
    'stores[0].select.status: expected',
  ],
  ['negative age', { ...config(store()), policy: { maxAgeDays: 0 } }, 'policy.maxAgeDays'],
  [
    'a lifetime in months',
    config(store({ rotation: { expiresIn: '3m' } })),
    'stores[0].rotation.expiresIn: expected a number of days, such as "90d"',
  ],
  [
    'a schedule with an interval in no known unit',
    config(store({ schedule: { every: '30x' } })),
    'stores[0].schedule.every: expected a whole number and a unit (m, h, d or w), such as "30d"',
  ],
  [
    'a schedule at an hour that does not exist',
    config(
      store(),
      store({ label: 'b', schedule: [{ every: '1d' }, { every: '30d', at: '25:00Z' }] }),
    ),
    'stores[1].schedule[1].at: expected a time of day from 00:00 to 23:59 with its zone',
  ],
  [
    'a schedule window without its time of day',
    config(store({ schedule: { every: '1d', window: '1h' } })),
    'stores[0].schedule.window: needs "at"',
  ],
  [
    'a schedule without its interval',
    config(store({ schedule: { at: '03:00Z' } })),
    'stores[0].schedule.every: required',
  ],
  [
    'a schedule field that does not exist',
    config(store({ schedule: { every: '1d', cron: '0 3 * * *' } })),
    'stores[0].schedule.cron: unknown field',
  ],
]

/** The configs the docs and examples show, each as a user would copy it. */
const shownConfigs = (): Array<[string, unknown]> => [
  [
    'examples/nightly-rotation/keyway.config.json',
    JSON.parse(fromRepository('examples/nightly-rotation/keyway.config.json')),
  ],
  ...['README.md', 'packages/cli/README.md'].flatMap((file) =>
    [...fromRepository(file).matchAll(/```json\n([\s\S]*?)```/g)]
      .map((block) => block[1] as string)
      .filter((block) => block.includes('"stores"'))
      .map((block, index): [string, unknown] => [
        `${file}, config ${index + 1}`,
        JSON.parse(block),
      ]),
  ),
]

describe('keyway.config.schema.json', () => {
  it('is what the valibot schema makes (after a change: pnpm --filter @keyway/cli schema)', () => {
    expect(jsonSchema).toEqual(JSON.parse(JSON.stringify(configJsonSchema())))
  })

  it('accepts every config the docs and examples show, as keyway does', () => {
    const shown = shownConfigs()
    expect(shown.length).toBeGreaterThanOrEqual(3)
    for (const [where, data] of shown) {
      expect(validate(data), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true)
      expect(parseConfig(JSON.stringify(data), where).stores.length, where).toBeGreaterThan(0)
    }
  })

  it('says secret shapes without regex flags: letters in either case', () => {
    expect(caseless('^sk-or-v1-[0-9a-f]{64}$')).toBe('^[sS][kK]-[oO][rR]-[vV]1-[0-9a-fA-F]{64}$')
    expect(caseless('^pk_\\d[a-c_]+$')).toBe('^[pP][kK]_\\d[a-cA-C_]+$')
    for (const provider of Object.values(PROVIDERS))
      for (const shape of provider.secretPatterns ?? []) {
        const json = new RegExp(
          shape.flags.includes('i') ? caseless(shape.source) : shape.source,
          'u',
        )
        for (const sample of [FAKE_OPENROUTER, FAKE_LATITUDE, FAKE_VOICEABLE])
          for (const text of [sample, sample.toUpperCase()])
            expect(json.test(text), `${provider.id} ${text.slice(0, 12)}`).toBe(shape.test(text))
      }
  })
})

describe('keyway.config.json', () => {
  it.each(valid)('accepts %s, as does the JSON Schema', (_name, data) => {
    expect(v.safeParse(configSchema, data).success).toBe(true)
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true)
  })

  it.each(invalid)('refuses %s, as does the JSON Schema', (_name, data, message) => {
    expect(validate(data)).toBe(false)
    expect(() => parseConfig(JSON.stringify(data), 'keyway.config.json')).toThrow(
      `keyway.config.json: ${message}`,
    )
  })

  it('names in the JSON Schema exactly the target kinds of the CLI’s table', () => {
    expect(jsonSchema.$defs.target.properties.kind.enum).toEqual(TARGET_KIND_IDS)
    expect(
      jsonSchema.$defs.target.allOf.map(
        (option: { if: { properties: { kind: { const: string } } } }) =>
          option.if.properties.kind.const,
      ),
    ).toEqual(TARGET_KIND_IDS)
  })

  it('names in the JSON Schema exactly the vendors of the registry, with their credential settings', () => {
    const storeSchema = jsonSchema.$defs.store
    expect(storeSchema.properties.vendor.enum).toEqual(Object.keys(PROVIDERS))
    const byVendor = Object.fromEntries(
      storeSchema.allOf.map(
        (entry: {
          if: { properties: { vendor: { const: string } } }
          then: { properties: { credentials: Record<string, unknown> } }
        }) => [entry.if.properties.vendor.const, entry.then.properties.credentials],
      ),
    )
    for (const [vendor, settings] of Object.entries(VENDOR_CREDENTIALS)) {
      const given = byVendor[vendor] as {
        properties: Record<string, unknown>
        required?: string[]
        anyOf?: Array<{ required: string[] }>
      }
      // Order aside: the settings, and each set of them that is enough on its own.
      const sorted = (sets: readonly (readonly string[] | undefined)[]) =>
        sets.map((set) => [...(set ?? [])].sort().join('+')).sort()
      expect(Object.keys(given?.properties ?? {}).sort(), vendor).toEqual(
        Object.keys(settings).sort(),
      )
      expect(sorted(given.anyOf?.map((set) => set.required) ?? [given.required]), vendor).toEqual(
        sorted(CREDENTIAL_SETS[vendor as keyof typeof CREDENTIAL_SETS]),
      )
    }
  })

  it('never quotes a pasted credential in its error', () => {
    expect.assertions(2)
    const data = config(store({ credentials: { managementKey: FAKE_OPENROUTER } }))
    try {
      parseConfig(JSON.stringify(data), 'keyway.config.json')
    } catch (error) {
      expect((error as Error).message).not.toContain(FAKE_OPENROUTER)
      expect((error as Error).message).not.toContain(FAKE_OPENROUTER.slice(10))
    }
  })

  it('refuses, which only keyway checks, a schedule whose window or lifetime does not fit its interval', () => {
    const cases: Array<[unknown, string]> = [
      [
        { every: '1h', at: '03:00Z', window: '2h' },
        'stores[0].schedule.window: at most "every" (1h)',
      ],
      [
        { every: '30d', at: '03:00Z', lifetime: '30d' },
        'stores[0].schedule.lifetime: must be longer',
      ],
    ]
    for (const [schedule, message] of cases)
      expectOnlyKeywayRefuses(config(store({ schedule })), message)
  })

  it('refuses a label used twice, which only keyway checks (JSON Schema cannot)', () => {
    expectOnlyKeywayRefuses(
      config(store(), store()),
      'stores[1].label: label "openrouter-prod" is used by an earlier store',
    )
  })

  it.each([
    ['no "keys"', {}, 'this entry has no "keys"'],
    ['a name glob', { keys: { name: 'app-*' } }, '"keys.name" "app-*" is a glob'],
    ['several ids', { keys: { ids: ['k1', 'k2'] } }, '"keys.ids" names 2 keys'],
  ])(
    'refuses a fixed variable on an entry that can take several keys (%s), as does the JSON Schema',
    (_why, keys, reason) => {
      const data = targets({ kind: 'github', repository: 'acme/app', variable: 'APP_KEY', ...keys })
      expect(validate(data)).toBe(false)
      expect(() => parseConfig(JSON.stringify(data), 'keyway.config.json')).toThrow(
        `keyway.config.json: stores[0].targets[0].variable: a fixed variable (no placeholder) holds one key's secret, but ${reason}`,
      )
    },
  )

  it.each([
    ['one id', { ids: ['k1'] }],
    ['an exact name', { name: 'app-api' }],
    ['a metadata label', { metadata: { app: 'api' } }],
  ])('accepts a fixed variable on an entry that selects one key by %s', (_why, keys) => {
    const data = targets({ kind: 'vercel', project: 'web', variable: 'APP_KEY', keys })
    expect(validate(data)).toBe(true)
    expect(parseConfig(JSON.stringify(data), 'keyway.config.json').stores[0]?.targets).toHaveLength(
      1,
    )
  })

  it('names the line and column of a JSON syntax error', () => {
    expect(() => parseConfig('{\n  "stores": [,]\n}', 'fleet.json')).toThrow(
      /^fleet\.json: is not valid JSON \(line 2, column 14\)$/,
    )
  })
})
