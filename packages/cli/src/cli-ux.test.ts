import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { createSecretsManagerTarget } from '@keyway/target-aws'
import { type OpenRouterEmulatorControl, targetTestKit, type Vendor } from '@keyway/testkit'
import { describe, expect, it } from 'vitest'
import { envFor, keyway, useSandbox } from './cli.test-support.js'
import { visibleWidth } from './output.js'

const { start, folder } = useSandbox()

/** Where each header starts on screen; every row must have a cell starting there too. */
function expectAligned(text: string): void {
  const [header = '', ...rows] = stripVTControlCharacters(text).trimEnd().split('\n')
  const starts = [...header.matchAll(/(?<=^| {2})\S/g)].map((match) => match.index ?? 0)
  expect(starts.length).toBeGreaterThan(3)
  for (const row of rows.filter((line) => !line.startsWith('*'))) {
    for (const start of starts.slice(1)) {
      // The screen column `start` is reached after the row's first `start` columns.
      let used = 0
      let index = 0
      for (const char of row) {
        if (used >= start) break
        used += visibleWidth(char)
        index += char.length
      }
      expect(used, `row ${JSON.stringify(row)} at column ${start}`).toBe(start)
      expect(row.slice(index - 2, index), `gap before column ${start} in ${row}`).toBe('  ')
      expect(row[index]).not.toBe(' ')
    }
  }
}

describe('tables', () => {
  it.each([
    ['with colour', {}],
    ['without colour', { NO_COLOR: '1' }],
  ])('on a terminal are aligned by what shows on screen, %s', async (_case, extra) => {
    const emulator = await start('latitudesh')
    emulator.control.seedKey({ name: '鍵-キー 🔑' })
    const run = await keyway(['list', '-p', 'latitudesh'], {
      ...envFor(emulator),
      KEYWAY_FORCE_TTY: '1',
      ...extra,
    })
    expect(run.code).toBe(0)
    expect(run.stdout.includes('\u001b[')).toBe(Object.keys(extra).length === 0)
    expectAligned(run.stdout)
    const plain = stripVTControlCharacters(run.stdout)
    expect(plain.split('\n')[0]).toMatch(
      /^ID +NAME +STATUS +HINT +READ-ONLY +ALLOWED IPS +CREATED +LAST USED$/,
    )
    // The key keyway authenticates with is marked, and the mark explained.
    expect(plain).toMatch(/ admin \* +active /)
    expect(plain).toContain('* the key keyway is using as its credential')
    // Dates in UTC, marked.
    expect(plain).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/)
  })

  it('show the vendor’s own columns: limit and expiry at OpenRouter, type at NoteDx', async () => {
    const openrouter = await start('openrouter')
    const flags = ['--name', 'noon', '--limit', '7', '--expires-at', '2099-01-31T12:00', '--json']
    const created = await keyway(['create', '-p', 'openrouter', ...flags], envFor(openrouter))
    expect(JSON.parse(created.stdout).key.expiresAt).toBe('2099-01-31T12:00:00.000Z')
    const piped = await keyway(['list', '-p', 'openrouter'], envFor(openrouter))
    const noon = piped.stdout.split('\n').find((line) => line.includes('\tnoon\t'))
    expect(noon?.split('\t').slice(1)).toEqual([
      'noon',
      'active',
      expect.any(String),
      '$7',
      (openrouter.control as OpenRouterEmulatorControl).defaultWorkspaceId,
      '2099-01-31 12:00:00Z',
      expect.stringMatching(/Z$/),
      '-',
    ])
    const notedx = await start('notedx')
    const types = await keyway(['list', '-p', 'notedx'], envFor(notedx))
    expect(types.stdout.split('\n').map((line) => line.split('\t')[4])).toContain('sandbox')
  })
})

describe('keys by name or id prefix', () => {
  it('get, update and delete take a name or a unique id prefix; an ambiguous one lists the keys', async () => {
    const emulator = await start('openrouter')
    const one = emulator.control.seedKey({ name: 'deploy-bot' })
    const byName = await keyway(
      ['get', 'deploy-bot', '-p', 'openrouter', '--json'],
      envFor(emulator),
    )
    expect(JSON.parse(byName.stdout).id).toBe(one.id)
    const byPrefix = await keyway(
      ['get', one.id.slice(0, 10), '-p', 'openrouter', '--json'],
      envFor(emulator),
    )
    expect(JSON.parse(byPrefix.stdout).id).toBe(one.id)
    const renamed = await keyway(
      ['update', 'deploy-bot', '-p', 'openrouter', '--name', 'deploy-bot-2', '--json'],
      envFor(emulator),
    )
    expect(JSON.parse(renamed.stdout)).toMatchObject({ id: one.id, name: 'deploy-bot-2' })

    emulator.control.seedKey({ name: 'twin' })
    emulator.control.seedKey({ name: 'twin' })
    const ambiguous = await keyway(
      ['delete', 'twin', '-p', 'openrouter', '--yes'],
      envFor(emulator),
    )
    expect(ambiguous.code).toBe(1)
    expect(ambiguous.stderr).toMatch(
      /^error AmbiguousKey: "twin" matches 2 openrouter keys: [0-9a-f]{64} \(twin\), [0-9a-f]{64} \(twin\) \(hint: pass more of the id, or the whole id\)\n$/,
    )
    expect(emulator.requests.filter((request) => request.method === 'DELETE')).toHaveLength(0)

    const deleted = await keyway(
      ['delete', 'deploy-bot-2', '-p', 'openrouter', '--yes'],
      envFor(emulator),
    )
    expect(deleted.stdout.trim()).toBe(`${one.id} deleted`)
    expect(emulator.control.keyIds()).not.toContain(one.id)
  })
})

describe('--json field selection, as gh', () => {
  it('prints only the fields asked for, and refuses an unknown one', async () => {
    const emulator = await start('latitudesh')
    const run = await keyway(['list', '-p', 'latitudesh', '--json=id,name'], envFor(emulator))
    expect(run.code).toBe(0)
    const keys = JSON.parse(run.stdout) as Array<Record<string, unknown>>
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(Object.keys(key)).toEqual(['id', 'name'])
    const one = await keyway(
      ['get', 'seed-key-1', '-p', 'latitudesh', '--json=status'],
      envFor(emulator),
    )
    expect(JSON.parse(one.stdout)).toEqual({ status: 'active' })
    const unknown = await keyway(['list', '-p', 'latitudesh', '--json=nmae'], envFor(emulator))
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe(
      'error UsageError: --json has no field "nmae" (hint: did you mean name?)\n',
    )
    const create = await keyway(['create', '-p', 'latitudesh', '--json=id'], envFor(emulator))
    expect(create.code).toBe(1)
    expect(create.stderr).toContain('create does not take --json=<fields>')
  })
})

describe('operator terms', () => {
  it.each([
    [
      ['create', '-p', 'latitudesh', '--allowed-ip', '999.1.1.1'],
      'latitudesh create: invalid input: --allowed-ip 999.1.1.1: expected an IP address or CIDR range',
    ],
    [
      ['create', '-p', 'openrouter', '--expires-at', '2020-01-01'],
      'openrouter create: invalid input: --expires-at 2020-01-01: expected a date in the future',
    ],
  ])('%j names the flag, not the library field', async (args, message) => {
    const vendor = args[2] as Vendor
    const emulator = await start(vendor)
    const run = await keyway(args, envFor(emulator))
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(`error ValidationError: ${message}\n`)
  })

  it('refuses a plain-http base URL with the env var that holds it', async () => {
    const run = await keyway(['list', '-p', 'openrouter'], {
      OPENROUTER_BASE_URL: 'http://openrouter.example.test/api/v1',
      OPENROUTER_MANAGEMENT_KEY: 'sk-or-v1-fake',
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(
      "error ConfigurationError: OPENROUTER_BASE_URL must use https (plain http is allowed on loopback only) (hint: use an https:// URL (plain http only on 127.0.0.1 or localhost), or unset OPENROUTER_BASE_URL to use OpenRouter's own)\n",
    )
  })
})

describe('network errors', () => {
  it('tells a refused connection apart, with a retry line per wait and the cause under --debug', async () => {
    // A port nothing listens on: open a server, note its port, close it.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    await new Promise((resolve) => server.close(resolve))
    const run = await keyway(['list', '-p', 'openrouter', '--debug'], {
      OPENROUTER_BASE_URL: `http://127.0.0.1:${port}/api/v1`,
      OPENROUTER_MANAGEMENT_KEY: 'sk-or-v1-fake',
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      `error NetworkError: openrouter list: connection refused at http://127.0.0.1:${port}/api/v1: nothing is listening there; nothing was sent (hint: check OPENROUTER_BASE_URL, or start the service)`,
    )
    expect(run.stderr).toMatch(/waiting \d+\.\d s: openrouter list network_error, then attempt 2/)
    expect(run.stderr).toContain(
      `cause: TypeError: fetch failed: connect ECONNREFUSED 127.0.0.1:${port} (ECONNREFUSED)`,
    )
  })

  it('gives up on a vendor that never answers after --timeout, with a retry line per wait', async () => {
    const emulator = await start('openrouter')
    let answer = () => {}
    const gate = new Promise<void>((resolve) => {
      answer = resolve
    })
    emulator.inject({ match: { method: 'GET' }, until: gate, times: 3 })
    try {
      const run = await keyway(['list', '-p', 'openrouter', '--timeout', '300ms'], envFor(emulator))
      expect(run.code).toBe(1)
      const waits = run.stderr.match(/waiting \d+\.\d s: openrouter list timeout, then attempt \d/g)
      expect(waits).toHaveLength(2)
      expect(run.stderr).toContain(
        "error TimeoutError: openrouter list: no response within the attempt's time limit",
      )
      expect(emulator.requests.map((request) => request.method)).toEqual(['GET', 'GET', 'GET'])
    } finally {
      answer()
    }
  })

  it('refuses a bad --timeout or KEYWAY_TIMEOUT before sending anything', async () => {
    const emulator = await start('openrouter')
    const flag = await keyway(['list', '-p', 'openrouter', '--timeout', '30'], envFor(emulator))
    expect(flag.code).toBe(1)
    expect(flag.stderr).toBe(
      'error UsageError: --timeout takes a duration such as 1500ms, 30s or 2m, not "30" (hint: did you mean --timeout 30s?)\n',
    )
    const env = await keyway(['audit', '--config', join(folder(), 'none.json')], {
      KEYWAY_TIMEOUT: '2 mins',
    })
    expect(env.code).toBe(1)
    expect(env.stderr).toContain(
      'error UsageError: KEYWAY_TIMEOUT takes a duration such as 1500ms, 30s or 2m, not "2 mins" (hint: did you mean KEYWAY_TIMEOUT=2m?)',
    )
    expect(emulator.requests).toEqual([])
  })

  it('tells a port fetch refuses to use, at once and without retrying', async () => {
    const run = await keyway(['list', '-p', 'openrouter', '--debug'], {
      OPENROUTER_BASE_URL: 'http://127.0.0.1:1/api/v1',
      OPENROUTER_MANAGEMENT_KEY: 'sk-or-v1-fake',
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'error NetworkError: openrouter list: fetch refuses to connect to the port at http://127.0.0.1:1/api/v1 (a "bad port", kept for other protocols); nothing was sent (hint: use another port in OPENROUTER_BASE_URL)',
    )
    expect(run.stderr).toContain('cause: TypeError: fetch failed: bad port')
    expect(run.stderr).not.toContain('waiting')
  })

  it('tells TLS certificate failures apart, with the cause under --debug and no retry', async () => {
    const key = join(folder(), 'key.pem')
    const cert = join(folder(), 'cert.pem')
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=other.example.test',
          '-addext',
          'subjectAltName=DNS:other.example.test',
        ],
        (error) => (error ? reject(error) : resolve()),
      ),
    )
    const server = createServer(
      { key: await readFile(key), cert: await readFile(cert) },
      (_, response) => response.end('{}'),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const env = {
      OPENROUTER_BASE_URL: `https://localhost:${port}/api/v1`,
      OPENROUTER_MANAGEMENT_KEY: 'sk-or-v1-fake',
    }
    try {
      // Trusted, but made out to another host name.
      const trusted = await keyway(['list', '-p', 'openrouter', '--debug'], {
        ...env,
        NODE_EXTRA_CA_CERTS: cert,
      })
      expect(trusted.code).toBe(1)
      expect(trusted.stderr).toContain(
        `error NetworkError: openrouter list: the TLS connection at https://localhost:${port}/api/v1 was refused (ERR_TLS_CERT_ALTNAME_INVALID); nothing was sent (hint: the server's certificate is for another host name; check OPENROUTER_BASE_URL)`,
      )
      expect(trusted.stderr).toContain(
        "cause: TypeError: fetch failed: Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:other.example.test (ERR_TLS_CERT_ALTNAME_INVALID)",
      )
      expect(trusted.stderr).not.toContain('waiting')

      // Self-signed and not trusted at all.
      const untrusted = await keyway(['list', '-p', 'openrouter', '--debug'], env)
      expect(untrusted.code).toBe(1)
      expect(untrusted.stderr).toContain(
        `error NetworkError: openrouter list: the TLS connection at https://localhost:${port}/api/v1 was refused (DEPTH_ZERO_SELF_SIGNED_CERT); nothing was sent (hint: the server's certificate is not trusted; check OPENROUTER_BASE_URL)`,
      )
      expect(untrusted.stderr).toContain(
        'cause: TypeError: fetch failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('delivery', () => {
  it('names the variables with --var-name', async () => {
    const emulator = await start('openrouter')
    emulator.control.seedKey({ name: 'ci-one' })
    emulator.control.seedKey({ name: 'ci-two' })
    const file = join(folder(), 'keys.env')
    const args = ['rotate', '--name', 'ci-*', '-p', 'openrouter', '--yes', '--deliver-to', file]
    const run = await keyway(
      [...args, '--var-name', 'LLM_{NAME}_KEY', '--journal', join(folder(), 'j.json')],
      envFor(emulator),
    )
    expect(run.code).toBe(0)
    const names = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0])
    expect(names.sort()).toEqual(['LLM_CI_ONE_KEY', 'LLM_CI_TWO_KEY'])

    const refused = await keyway([...args, '--var-name', 'KEY_{LABEL}'], envFor(emulator))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('--var-name has an unknown placeholder {LABEL}')
  })
})

describe('emulators', () => {
  it('--emulator rotations never write the journal in the working directory', async () => {
    const run = await keyway(
      ['rotate', 'seed-key-1', '-p', 'openrouter', '--emulator', '--yes'],
      {},
      folder(),
    )
    expect(run.code).toBe(0)
    expect(await readdir(folder())).toEqual([])
    expect(run.stderr).not.toContain('--batch-id')
  })

  it('demo --json prints one JSON summary', async () => {
    const run = await keyway(['demo', '--json'])
    expect(run.code).toBe(0)
    const summary = JSON.parse(run.stdout) as {
      vendors: Array<{ vendor: string; oldKey: string }>
      fleet: { exitCodes: Record<string, number>; delivered: Record<string, number> }
    }
    expect(summary.vendors.map((row) => [row.vendor, row.oldKey])).toEqual([
      ['OpenRouter', 'deleted'],
      ['Latitude.sh', 'deleted'],
      ['NoteDx', 'deleted'],
      ['Voiceable', 'deleted'],
    ])
    // The fleet part: audit finds the keys due (exit 8), apply rotates the two due keys of
    // every vendor, each delivered to its store's file.
    expect(summary.fleet).toEqual({
      exitCodes: { audit: 8, plan: 0, apply: 0 },
      delivered: { openrouter: 2, latitudesh: 2, notedx: 2, voiceable: 2 },
    })
  })

  it('emulate --background prints exports and exits; the emulators keep running until killed', async () => {
    const dotenvFile = join(folder(), 'emulators.env')
    const run = await keyway(['emulate', 'latitudesh', '--background', '--dotenv', dotenvFile])
    expect(run.code).toBe(0)
    const exported = Object.fromEntries(
      [...run.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    ) as Record<string, string>
    const pid = Number(exported.KEYWAY_EMULATOR_PID)
    try {
      expect(Object.keys(exported).sort()).toEqual([
        'KEYWAY_EMULATOR_PID',
        'LATITUDESH_BASE_URL',
        'LATITUDESH_BEARER',
      ])
      const { KEYWAY_EMULATOR_PID: _pid, ...env } = exported
      const listed = await keyway(['list', '-p', 'latitudesh', '--json'], env)
      expect(JSON.parse(listed.stdout)).toHaveLength(4)
      const file = (await readFile(dotenvFile, 'utf8')).trim().split('\n')
      expect(file).toEqual([
        `LATITUDESH_BASE_URL=${env.LATITUDESH_BASE_URL}`,
        `LATITUDESH_BEARER=${env.LATITUDESH_BEARER}`,
      ])
    } finally {
      process.kill(pid, 'SIGTERM')
    }
  })

  it('emulate aws makes the secrets the config names, so a target can write to them; without a config it says how to make one', async () => {
    const dir = folder()
    await writeFile(
      join(dir, 'keyway.config.json'),
      JSON.stringify({
        stores: [
          {
            label: 'openrouter',
            vendor: 'openrouter',
            targets: [
              { kind: 'aws-secrets-manager', secretId: 'prod/web', jsonKey: 'API_KEY' },
              { kind: 'aws-secrets-manager', secretId: 'prod/worker' },
              {
                kind: 'aws-secrets-manager',
                secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:real-AbCdEf',
              },
            ],
          },
        ],
      }),
    )
    const run = await keyway(['emulate', 'aws', '--background', '--json'], {}, dir)
    expect(run.code).toBe(0)
    const { pid, emulators } = JSON.parse(run.stdout) as {
      pid: number
      emulators: Array<{ env: Record<string, string>; seeded?: string[] }>
    }
    try {
      expect(emulators[0]?.seeded).toEqual(['prod/web', 'prod/worker'])
      expect(stripVTControlCharacters(run.stderr)).toContain(
        "made the secrets your config's targets name: prod/web, prod/worker",
      )
      const env = emulators[0]?.env ?? {}
      const settings = {
        baseUrl: env.AWS_ENDPOINT_URL_SECRETS_MANAGER as string,
        region: env.AWS_REGION as string,
        accessKeyId: env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
        sessionToken: env.AWS_SESSION_TOKEN as string,
        confirmIntervalMs: 5,
      }
      const { created, context } = targetTestKit({ target: 'aws' })
      for (const secretId of ['prod/web', 'prod/worker']) {
        const target = createSecretsManagerTarget({
          ...settings,
          secretId,
          ...(secretId === 'prod/web' ? { jsonKey: 'API_KEY' } : {}),
        })
        const receipt = (await target.write(created(), context())) ?? {}
        await target.confirm(context(receipt))
      }
      // A secret no target names was not made.
      await expect(
        createSecretsManagerTarget({ ...settings, secretId: 'prod/other' }).write(
          created(),
          context(),
        ),
      ).rejects.toMatchObject({ name: 'NotFoundError' })
    } finally {
      process.kill(pid, 'SIGTERM')
    }
    const bare = await keyway(
      ['emulate', 'aws', '--background'],
      {},
      await mkdtemp(join(dir, 'no-config-')),
    )
    expect(bare.code).toBe(0)
    const barePid = Number(/^export KEYWAY_EMULATOR_PID=(\d+)$/m.exec(bare.stdout)?.[1])
    try {
      expect(stripVTControlCharacters(bare.stderr)).toContain(
        'no secrets yet, and AWS writes only to a secret that exists',
      )
      expect(bare.stderr).toContain('aws secretsmanager create-secret --name <secretId>')
    } finally {
      process.kill(barePid, 'SIGTERM')
    }
  })

  it('emulate --json --port gives fixed ports, and a busy port is refused', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const busy = await keyway(['emulate', 'notedx', '--port', String(port), '--background'])
    await new Promise((resolve) => server.close(resolve))
    expect(busy.code).toBe(1)
    expect(busy.stderr).toContain(`port ${port} is in use`)

    const run = await keyway([
      'emulate',
      'notedx',
      '--port',
      String(port),
      '--background',
      '--json',
    ])
    const { pid, emulators: running } = JSON.parse(run.stdout) as {
      pid: number
      emulators: Array<{ vendor: string; url: string; env: Record<string, string> }>
    }
    try {
      expect(running).toEqual([
        {
          vendor: 'notedx',
          title: 'NoteDx',
          url: `http://127.0.0.1:${port}`,
          env: {
            NOTEDX_BASE_URL: `http://127.0.0.1:${port}/v1`,
            NOTEDX_EMAIL: expect.any(String),
            NOTEDX_PASSWORD: expect.any(String),
          },
        },
      ])
    } finally {
      process.kill(pid, 'SIGTERM')
    }
  })
})

describe('completion', () => {
  it('completes commands, flags and vendors in bash', async () => {
    const script = await keyway(['completion', 'bash'])
    const complete = (words: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'bash',
          [
            '-c',
            `${script.stdout}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _keyway; echo "\${COMPREPLY[@]}"`,
          ],
          (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
        ),
      )
    expect(await complete('keyway ro')).toBe('rotate')
    expect(await complete('keyway list --provider lat')).toBe('latitudesh')
    expect(await complete('keyway list --include-d')).toBe('--include-disabled')
    expect(await complete('keyway aud')).toBe('audit')
    expect((await complete('keyway ap')).split(' ')).toContain('apply')
    expect(await complete('keyway audit --fail')).toBe('--fail-on')
    expect(await complete('keyway apply --expiring')).toBe('--expiring-within-days')
    expect(await complete('keyway list --time')).toBe('--timeout')
  })

  it('names the fleet commands and their flags in zsh and fish', async () => {
    const zsh = (await keyway(['completion', 'zsh'])).stdout
    expect(zsh).toMatch(/compadd -- .*\baudit plan apply\b/)
    expect(zsh).toContain('--config')
    const fish = (await keyway(['completion', 'fish'])).stdout
    expect(fish).toContain('complete -c keyway -n __fish_use_subcommand -a plan')
    expect(fish).toContain('complete -c keyway -l store -r')
    expect(fish).toContain('complete -c keyway -l config -s c -r')
    expect(zsh).toContain('--timeout')
    expect(fish).toContain('complete -c keyway -l timeout -r')
  })
})

describe('did you mean, for the fleet commands', () => {
  it.each([
    [['audti'], 'did you mean keyway audit?'],
    [['aply'], 'did you mean keyway apply?'],
    [['help', 'plna'], 'did you mean keyway plan?'],
    [['audit', '--fail-onn', 'none'], 'did you mean --fail-on?'],
    [['apply', '--batchid', 'x'], 'did you mean --batch-id?'],
    [['plan', '--stor', 'x'], 'did you mean --store?'],
  ])('keyway %j', async (args, hint) => {
    const run = await keyway(args)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(hint)
  })
})
