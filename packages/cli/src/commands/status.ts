import {
  type ApiKey,
  type AuditPolicy,
  type HistoryEntry,
  historyChanges,
  type RotationSchedule,
  readHistory,
  rotationHistory,
  scheduledKeys,
} from '@keyway/core'
import {
  matchesSelector,
  type StoreFingerprint,
  scheduleList,
  storeFingerprint,
} from '@keyway/core/adapter'
import type { ConfiguredStore } from '../config/fleet-stores.js'
import type { Context } from '../context.js'
import { json, printable, table } from '../output.js'
import { readOrCreateKey } from '../store-accounts.js'
import { nowOf, openFleet, unreadableCode } from './fleet-open.js'
import { shortId } from './fleet-output.js'

const DAY_MS = 86_400_000

/** A key's last failed change, as history tells it: never a secret, never a message. */
interface LastFailure {
  at: string
  action: string
  step: string | null
  errorCode: string | null
  batchId: string | null
}

/** One key as `keyway status --json` prints it. */
interface KeyStatus {
  id: string
  name: string | null
  status: ApiKey['status']
  createdAt: string | null
  /** Whether the store's `select` covers it (apply rotates only these). */
  managed: boolean
  /** Its schedule, where one covers it. */
  schedule: RotationSchedule | null
  lastRotated: string | null
  /** `created`: the vendor's creation time; `history`: a regenerate (or create) history holds. */
  lastRotatedFrom: 'created' | 'history' | null
  /** When it is (or was) due: by its schedule, else by the policy's `maxAgeDays`. */
  dueAt: string | null
  /** Whether `keyway apply` would rotate it now by its schedule. */
  due: boolean
  /** When a run will next rotate it by its schedule. */
  nextRun: string | null
  lastFailure: LastFailure | null
}

/** One store as `keyway status --json` prints it. */
interface StoreStatus {
  label: string
  provider: string
  /** Which account the credential reaches: the base URL, a keyed digest of the credential, the vendor's account id where known. */
  account: { baseUrl: string; fingerprint: string; account: string | null } | null
  /**
   * The listed keys the store's own credential is (`[]`: none of them, such as an OpenRouter
   * management key; `null`: the store cannot tell).
   */
  credential: Array<{ id: string; name: string | null }> | null
  keys: KeyStatus[]
  error: { code: string; message: string } | null
}

/**
 * `keyway status`: per store, which account and key its own credential is (like `gh auth
 * status`), and per key its last rotation, when it is next due (by its schedule, else the
 * policy's `maxAgeDays`) and its last failed change with the error's code, from history.
 * Reads only; exits 1 when a store could not be read, 4 when none could for its credential.
 */
export async function status(context: Context): Promise<number> {
  const opened = await openFleet(context)
  const now = nowOf(context)
  const entries = await readHistory(opened.history)
  const digestKey = await readOrCreateKey(`${opened.history}.key`)
  const report = await opened.fleet.audit(opened.policy, { now, signal: context.signal })
  const stores = await Promise.all(
    opened.stores.map(async (configured): Promise<StoreStatus> => {
      const { label, store } = configured.fleetStore
      const error = report.errors.find((each) => each.label === label)
      const keys = report.entries.filter((entry) => entry.label === label).map((entry) => entry.key)
      const fingerprint = (() => {
        try {
          return storeFingerprint(store, digestKey)
        } catch {
          return undefined
        }
      })()
      return {
        label,
        provider: store.provider,
        account:
          fingerprint === undefined
            ? null
            : {
                baseUrl: fingerprint.baseUrl,
                fingerprint: fingerprint.credential.slice(0, 12),
                account: fingerprint.account ?? null,
              },
        credential: error === undefined ? await credentialKeys(configured, keys, context) : null,
        keys: keyStatuses(configured, keys, {
          now,
          entries,
          account: fingerprint,
          policy: opened.policy,
        }),
        error:
          error === undefined ? null : { code: error.error.code, message: error.error.message },
      }
    }),
  )
  if (context.values.json) context.out(json({ at: now.toISOString(), stores }))
  else context.out(statusText(stores, context))
  return unreadableCode(report.errors, opened.stores.length)
}

/** The listed keys the store authenticates with, named; `null` where it cannot tell. */
async function credentialKeys(
  configured: ConfiguredStore,
  keys: readonly ApiKey[],
  context: Context,
): Promise<StoreStatus['credential']> {
  const { store } = configured.fleetStore
  if (store.credentialKeyIds === undefined) return null
  const ids = await store.credentialKeyIds({ signal: context.signal, among: keys })
  return ids.map((id) => ({ id, name: keys.find((key) => key.id === id)?.name ?? null }))
}

function keyStatuses(
  configured: ConfiguredStore,
  keys: readonly ApiKey[],
  options: {
    now: Date
    entries: readonly HistoryEntry[]
    /** The account the store reaches now: history of another account under its label does not count. */
    account: StoreFingerprint | undefined
    policy: AuditPolicy
  },
): KeyStatus[] {
  const { label, select } = configured.fleetStore
  const schedules = scheduleList(configured.fleetStore.schedule)
  const managed = (key: ApiKey) => select === undefined || matchesSelector(key, select, options.now)
  const scheduled = new Map(
    scheduledKeys(
      keys.filter(managed).map((key) => ({ label, key, schedules })),
      { now: options.now, history: rotationHistory(options.entries, () => options.account) },
    ).map((entry) => [entry.key.id, entry]),
  )
  const failures = lastFailures(options.entries, label)
  const iso = (date: Date | string | null) => (date === null ? null : new Date(date).toISOString())
  return keys.map((key): KeyStatus => {
    const entry = scheduled.get(key.id)
    const maxAge = options.policy.maxAgeDays
    const byPolicy =
      entry === undefined && managed(key) && maxAge !== undefined && key.createdAt !== null
        ? new Date(new Date(key.createdAt).getTime() + maxAge * DAY_MS)
        : null
    return {
      id: key.id,
      name: key.name,
      status: key.status,
      createdAt: iso(key.createdAt),
      managed: managed(key),
      schedule: entry?.schedule ?? null,
      lastRotated: iso(entry?.state.lastRotated ?? key.createdAt),
      lastRotatedFrom: entry?.state.lastRotatedFrom ?? (key.createdAt === null ? null : 'created'),
      dueAt: iso(entry?.state.dueAt ?? byPolicy),
      due: entry?.state.due ?? false,
      nextRun: iso(entry?.state.nextRun ?? null),
      lastFailure: failures.get(key.id) ?? null,
    }
  })
}

/**
 * Each key's last failed change at `label`: a change of the key itself, or of a rotation of it
 * (a rotation's id ends with the id of the key it replaces; a failed create has no key id).
 */
function lastFailures(entries: readonly HistoryEntry[], label: string): Map<string, LastFailure> {
  const failures = new Map<string, LastFailure>()
  for (const { attempt, outcome } of historyChanges(entries)) {
    if (attempt.store !== label || outcome?.outcome !== 'failed') continue
    const failure = {
      at: outcome.at,
      action: attempt.action,
      step: attempt.step,
      errorCode: outcome.errorCode ?? null,
      batchId: attempt.batchId,
    }
    const rotated = attempt.rotationId?.slice(attempt.rotationId.lastIndexOf('/') + 1)
    for (const id of new Set([attempt.keyId, rotated]))
      if (id !== null && id !== undefined && id !== '') failures.set(id, failure)
  }
  return failures
}

function statusText(stores: readonly StoreStatus[], context: Context): string {
  const { paint, terminal } = context
  const minute = (iso: string | null) => (iso === null ? '-' : iso.replace(/:\d\d\.\d+Z$/, 'Z'))
  const blocks = stores.map((store) => {
    const lines = [paint('bold', `${printable(store.label)} (${store.provider})`)]
    lines.push(
      store.account === null
        ? '  account:     cannot be told'
        : `  account:     ${printable(store.account.baseUrl)}, credential ${store.account.fingerprint}${store.account.account === null ? '' : `, account ${printable(store.account.account)}`}`,
    )
    lines.push(`  credential:  ${credentialText(store.credential)}`)
    if (store.error !== null) {
      lines.push(
        paint('red', `  error:       ${store.error.code}: ${printable(store.error.message)}`),
      )
      return lines.join('\n')
    }
    const rows = store.keys.map((key) => [
      shortId(key.id, { terminal }),
      printable(key.name ?? '-'),
      key.schedule === null ? (key.managed ? 'policy' : 'unmanaged') : scheduleText(key.schedule),
      minute(key.lastRotated),
      key.due ? paint('yellow', 'now') : minute(key.nextRun ?? key.dueAt),
      key.lastFailure === null
        ? '-'
        : paint(
            'red',
            `${minute(key.lastFailure.at)} ${key.lastFailure.action}${key.lastFailure.step === null ? '' : ` (${key.lastFailure.step})`}: ${key.lastFailure.errorCode ?? 'failed'}`,
          ),
    ])
    lines.push(
      store.keys.length === 0
        ? paint('dim', '  no keys')
        : table(
            ['KEY', 'NAME', 'SCHEDULE', 'LAST ROTATED', 'NEXT DUE', 'LAST FAILURE'],
            rows,
            paint,
            { terminal },
          )
            .split('\n')
            .map((line) => `  ${line}`)
            .join('\n'),
    )
    return lines.join('\n')
  })
  return blocks.join('\n\n')
}

function credentialText(credential: StoreStatus['credential']): string {
  if (credential === null) return 'the store cannot tell which key it authenticates with'
  if (credential.length === 0)
    return 'not one of the listed keys (an admin or management credential)'
  return credential
    .map((key) => `key ${key.id}${key.name === null ? '' : ` (${printable(key.name)})`}`)
    .join(', ')
}

function scheduleText(schedule: RotationSchedule): string {
  const window = schedule.at === undefined ? '' : ` at ${schedule.at}`
  return `every ${schedule.every}${window}`
}
