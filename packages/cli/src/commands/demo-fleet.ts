import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { descriptorEnv } from '@keyway/core/adapter'
import { type Emulator, startEmulator, VENDORS } from '@keyway/testkit'
import type { Context } from '../context.js'
import { PROVIDERS } from '../providers.js'
import { apply } from './apply.js'
import { audit } from './audit.js'
import { plan } from './plan.js'

const DAY_MS = 86_400_000

/** What the fleet part of the demo did. */
export interface FleetDemo {
  /** Exit codes of `audit`, `plan` and `apply`, as an operator would see them. */
  exitCodes: { audit: number; plan: number; apply: number }
  /** New secrets delivered, per store label (lines in each store's dotenv file). */
  delivered: Record<string, number>
}

/**
 * The fleet half of `keyway demo`: four emulators with keys of several ages, one
 * `keyway.config.json` naming them (env var names only, never a credential), then
 * `keyway audit`, `plan` and `apply --yes` on it, exactly as an operator runs them.
 * Everything lives in a temporary folder that is removed at the end.
 */
export async function fleetDemo(context: Context, quiet: boolean): Promise<FleetDemo> {
  const folder = await mkdtemp(join(tmpdir(), 'keyway-demo-'))
  const emulators: Emulator[] = []
  try {
    const env: Record<string, string> = {}
    const stores = []
    for (const vendor of VENDORS) {
      const emulator = await startEmulator(vendor)
      emulators.push(emulator)
      const provider = PROVIDERS[vendor]
      seedAges(emulator)
      // Each setting the emulator needs goes into the env var the vendor's descriptor names.
      const envOf = descriptorEnv(provider)
      const credentials: Record<string, string> = {}
      for (const [setting, value] of Object.entries(emulator.settings)) {
        const name = envOf[setting]
        if (name === undefined) continue
        env[name] = value
        if (setting !== 'baseUrl') credentials[setting] = name
      }
      stores.push({
        label: vendor,
        vendor,
        credentials,
        // NoteDx keys have no names: every key of it is managed.
        ...(vendor === 'notedx' ? {} : { select: { name: 'app-*' } }),
        deliver: {
          to: `${vendor}.env`,
          variable: vendor === 'notedx' ? '{PROVIDER}_{ID}' : '{PROVIDER}_{NAME}',
        },
        rotation: { retire: 'delete', graceMs: 0 },
      })
    }
    const config = { journal: 'rotations.json', policy: { maxAgeDays: 90 }, stores }
    const path = join(folder, 'keyway.config.json')
    await writeFile(path, `${JSON.stringify(config, null, 2)}\n`)

    const silent = () => {}
    const fleetContext: Context = {
      ...context,
      values: { ...context.values, config: path, yes: true, json: false },
      io: { ...context.io, env: { ...context.io.env, ...env } },
      out: quiet ? silent : context.out,
      note: quiet ? silent : context.note,
    }
    const say = fleetContext.out
    const { paint } = context
    say(paint('bold', '== One fleet: keyway.config.json over all four vendors =='))
    say(
      paint(
        'dim',
        `$ keyway audit   (policy: rotate keys older than 90 days; config in ${folder})`,
      ),
    )
    const auditCode = await audit(fleetContext)
    say(paint('dim', `exit ${auditCode}: 8 means keys have findings a nightly job acts on\n`))
    say(paint('dim', '$ keyway plan'))
    const planCode = await plan(fleetContext)
    say(paint('dim', '\n$ keyway apply --yes'))
    const applyCode = await apply(fleetContext)
    say(paint('dim', '\n$ keyway apply --yes   (the same night again: nothing is due)'))
    await apply(fleetContext)
    const delivered: Record<string, number> = {}
    for (const vendor of VENDORS)
      delivered[vendor] = await countLines(join(folder, `${vendor}.env`))
    return { exitCodes: { audit: auditCode, plan: planCode, apply: applyCode }, delivered }
  } finally {
    await Promise.all(emulators.map((emulator) => emulator.close()))
    await rm(folder, { recursive: true, force: true })
  }
}

/** Two keys due for rotation and one fresh key at each vendor. */
function seedAges(emulator: Emulator): void {
  const ago = (days: number) => new Date(Date.now() - days * DAY_MS)
  emulator.control.seedKey({ name: 'app-backend', createdAt: ago(120) })
  emulator.control.seedKey({ name: 'app-worker', createdAt: ago(200) })
  emulator.control.seedKey({ name: 'app-fresh', createdAt: ago(3) })
}

async function countLines(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line.trim() !== '').length
}
