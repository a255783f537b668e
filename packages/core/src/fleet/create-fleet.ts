import { randomBytes } from 'node:crypto'
import { listOptionsSchema } from '../request-options.js'
import { auditFleet } from './fleet-audit.js'
import { fleetHistory, planFleet } from './fleet-plan.js'
import { rotateFleet } from './fleet-rotate.js'
import {
  auditOptionsSchema,
  checkFleetInput,
  fleetStoresSchema,
  invalidFleet,
  policySchema,
  rotateOptionsSchema,
} from './fleet-schemas.js'
import type { Fleet, FleetAuditOptions, FleetKey, FleetStore } from './fleet-types.js'
import { scheduleList } from './rotation-schedule.js'
import { checkDistinctAccounts } from './same-account.js'

/**
 * Groups several stores (any vendors, several accounts of one vendor, each with a label) to
 * list, audit, plan and rotate as one. Labels must be unique, and a store object may belong
 * to one label only. Throws `ValidationError` naming the bad field. `plan` and `rotate` refuse
 * two stores that reach the same account (`SameAccountError`) unless their selections cannot
 * overlap.
 */
export function createFleet(stores: readonly FleetStore[]): Fleet {
  checkFleetInput('createFleet', fleetStoresSchema, stores)
  const issues: Array<{ path: string; message: string }> = []
  stores.forEach((fleetStore, index) => {
    const first = stores.findIndex((other) => other.label === fleetStore.label)
    if (first < index) {
      issues.push({
        path: `${index}.label`,
        message: `the label is already used by store ${first}`,
      })
    }
    const same = stores.findIndex((other) => other.store === fleetStore.store)
    if (same < index) {
      issues.push({
        path: `${index}.store`,
        message: `the same store object as ${stores[same]?.label}: give each store one label`,
      })
    }
  })
  for (const [index, fleetStore] of stores.entries())
    issues.push(...scheduleIssues(fleetStore, index))
  if (issues.length > 0) throw invalidFleet('createFleet', issues)
  const all = Object.freeze(stores.map((fleetStore) => Object.freeze({ ...fleetStore })))
  // Fingerprints are compared within this fleet only, so its digest key never leaves it.
  const digestKey = randomBytes(32)

  const checkAudit = (operation: string, policy: unknown, options: FleetAuditOptions) => {
    checkFleetInput(operation, policySchema, policy, 'policy')
    checkFleetInput(operation, auditOptionsSchema, options, 'options')
    return options.now ?? new Date()
  }

  return {
    stores: all,

    async list(options = {}) {
      checkFleetInput('list', listOptionsSchema, options, 'options')
      const lists = await Promise.all(
        all.map(async (fleetStore) => tag(fleetStore, await fleetStore.store.list(options))),
      )
      return lists.flat()
    },

    async *iterate(options = {}) {
      checkFleetInput('iterate', listOptionsSchema, options, 'options')
      for (const fleetStore of all) {
        for await (const key of fleetStore.store.iterate(options)) {
          yield { label: fleetStore.label, provider: fleetStore.store.provider, key }
        }
      }
    },

    async audit(policy, options = {}) {
      const now = checkAudit('audit', policy, options)
      return auditFleet(all, policy, now, options.signal)
    },

    async plan(policy, options = {}) {
      const now = checkAudit('plan', policy, options)
      checkDistinctAccounts(
        'plan',
        all.map((fleetStore) => ({ fleetStore })),
        digestKey,
      )
      return planFleet(all, policy, now, options.signal, fleetHistory(all, options))
    },

    async rotate(options) {
      checkFleetInput('rotate', rotateOptionsSchema, options, '')
      return rotateFleet(all, options, digestKey)
    },
  }
}

function tag(fleetStore: FleetStore, keys: readonly FleetKey['key'][]): FleetKey[] {
  return keys.map((key) => ({ label: fleetStore.label, provider: fleetStore.store.provider, key }))
}

/**
 * What a store's schedules cannot do with its settings: a kept old key stays active and due,
 * so every run would rotate it again; a lifetime needs a vendor whose keys can expire.
 */
function scheduleIssues(
  fleetStore: FleetStore,
  index: number,
): Array<{ path: string; message: string }> {
  const schedules = scheduleList(fleetStore.schedule)
  if (schedules.length === 0) return []
  const issues: Array<{ path: string; message: string }> = []
  const path = (at: number, field: string) =>
    Array.isArray(fleetStore.schedule)
      ? `${index}.schedule.${at}.${field}`
      : `${index}.schedule.${field}`
  if (fleetStore.rotation?.retire === 'keep')
    issues.push({
      path: `${index}.rotation.retire`,
      message:
        'cannot be "keep" with a schedule: the old key would stay active and be due again at every run',
    })
  schedules.forEach((schedule, at) => {
    if (schedule.lifetime !== undefined && fleetStore.store.capabilities?.expiry !== true)
      issues.push({
        path: path(at, 'lifetime'),
        message: `${fleetStore.store.provider} keys cannot expire, so a successor cannot be given a lifetime`,
      })
  })
  return issues
}
