// The code under test: what an application might write on top of keyway. Each customer gets
// one OpenRouter key, named after them, with a monthly spend limit. Running it again for the
// same customer finds the key instead of making a second one.
import type { Secret } from '@keyway/core'
import type { OpenRouterKeyStore } from '@keyway/openrouter'

/** A customer of the application. */
export interface Customer {
  id: string
  /** USD the customer's key may spend each month. */
  monthlyLimitUsd: number
}

/** What provisioning did: made the key (its secret is shown this once), or found it. */
export type Provisioned =
  | { status: 'created'; keyId: string; secret: Secret }
  | { status: 'exists'; keyId: string }

/** The name of a customer's key. */
export function customerKeyName(customer: Pick<Customer, 'id'>): string {
  return `customer-${customer.id}`
}

/**
 * Makes the customer's key unless it exists. keyway's errors pass through as they are:
 * typed (`AuthenticationError`, `RateLimitError`, …) and free of secrets.
 */
export async function provisionKeyForCustomer(
  store: OpenRouterKeyStore,
  customer: Customer,
): Promise<Provisioned> {
  const name = customerKeyName(customer)
  const existing = (await store.list()).find((key) => key.name === name)
  if (existing !== undefined) return { status: 'exists', keyId: existing.id }
  const created = await store.create({
    name,
    limit: customer.monthlyLimitUsd,
    limitReset: 'monthly',
  })
  return { status: 'created', keyId: created.key.id, secret: created.secret }
}
