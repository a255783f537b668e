import { type CreatedKey, type KeyStore, rotateKey } from '@keyway/core'
import { startEmulator, VENDORS } from '@keyway/testkit'
import type { Context } from '../context.js'
import { json, keyTable, table } from '../output.js'
import { PROVIDERS } from '../providers.js'
import { fleetDemo } from './demo-fleet.js'

interface Row {
  vendor: string
  listed: number
  created: string
  rotated: string
  verified: string
  oldKey: string
}

/**
 * `keyway demo`: starts all four emulators in this process and, at each vendor, lists the
 * seeded keys, creates one, and rotates one with verification; then runs `keyway audit`,
 * `plan` and `apply` from one config over all four. No account, no network.
 */
export async function demo(context: Context): Promise<number> {
  const { paint } = context
  const started = performance.now()
  const rows: Row[] = []
  // With --json, only the summary is printed, as one JSON document.
  const say = context.values.json ? () => {} : context.out
  say(paint('bold', 'keyway demo: one interface, four vendors, all emulated on loopback\n'))
  for (const vendor of VENDORS) {
    const provider = PROVIDERS[vendor]
    const emulator = await startEmulator(vendor)
    try {
      const store: KeyStore = provider.create({ ...emulator.settings })
      say(paint('bold', `== ${provider.title} ==`))
      const keys = await store.list({ signal: context.signal })
      say(keyTable(keys, paint, { terminal: true, columns: provider.columns ?? [] }))

      const input = store.capabilities.names ? { name: 'demo-created' } : {}
      const created = await store.create(input, { signal: context.signal })
      say(`\ncreated ${created.key.id}; its secret is returned once, as ${String(created.secret)}`)

      const target = keys.find(
        (key) =>
          key.status === 'active' &&
          key.name !== 'admin' &&
          (key.raw as { type?: string }).type !== 'sandbox',
      )
      let delivered: CreatedKey | undefined
      const result = await rotateKey(store, {
        keyId: (target as { id: string }).id,
        deliver: (fresh) => {
          delivered = fresh
        },
        // NoteDx has no verify call: here the emulator stands in for an application trying the key.
        ...(store.capabilities.verify
          ? {}
          : { verify: (fresh: CreatedKey) => emulator.control.works(fresh.secret.reveal()) }),
        verifyIntervalMs: 50,
        signal: context.signal,
      })
      say(
        `rotated ${result.oldKeyId} -> ${result.newKeyId}: new secret delivered (${String(delivered?.secret)}), ` +
          `${result.verified ? 'verified' : 'not verified'}, old key ${result.retired}\n`,
      )
      rows.push({
        vendor: provider.title,
        listed: keys.length,
        created: created.key.id,
        rotated: result.newKeyId,
        verified: result.verified ? 'yes' : 'no',
        oldKey: result.retired,
      })
    } finally {
      await emulator.close()
    }
  }
  if (context.values.json) {
    const fleet = await fleetDemo(context, true)
    context.out(json({ vendors: rows, fleet, seconds: secondsSince(started) }))
    return fleet.exitCodes.apply
  }
  say(paint('bold', 'Summary'))
  say(
    table(
      ['VENDOR', 'LISTED', 'CREATED', 'ROTATED TO', 'VERIFIED', 'OLD KEY'],
      rows.map((row) => [
        row.vendor,
        String(row.listed),
        shorten(row.created),
        shorten(row.rotated),
        row.verified,
        row.oldKey,
      ]),
      paint,
      { terminal: true },
    ),
  )
  say('')
  const fleet = await fleetDemo(context, false)
  const seconds = secondsSince(started)
  const delivered = Object.values(fleet.delivered).reduce((sum, count) => sum + count, 0)
  say(
    `\n${rows.length} vendors, then one fleet (${delivered} keys rotated from one config) in ${seconds.toFixed(1)} s: no account, nothing sent beyond this machine.`,
  )
  return fleet.exitCodes.apply
}

function secondsSince(started: number): number {
  return Number(((performance.now() - started) / 1000).toFixed(1))
}

function shorten(id: string): string {
  return id.length > 20 ? `${id.slice(0, 17)}...` : id
}
