/** What OpenRouter says about the key a request used (`GET /key`). */
export interface Credits {
  /** OpenRouter's masked preview of the key, e.g. `sk-or-v1-abc...123`: not a secret. */
  label: string
  /** USD left under the key's limit; `null` when it has none. */
  limitRemaining: number | null
  /** USD spent with the key. */
  usage: number
}

/** The vendor's answer: credits, or a refusal of the key (401), which a caller may retry. */
export type CreditsAnswer = { ok: true; credits: Credits } | { ok: false; status: number }

/**
 * Asks OpenRouter about `key` with `GET /key`, an endpoint any valid key may call. The key
 * goes in the `Authorization` header only; no answer or error carries it.
 */
export async function fetchCredits(
  baseUrl: string,
  key: string,
  signal?: AbortSignal,
): Promise<CreditsAnswer> {
  const response = await fetch(`${baseUrl}/key`, {
    headers: { authorization: `Bearer ${key}`, 'x-title': 'keyway hot-reload example' },
    signal,
  })
  if (!response.ok) {
    await response.body?.cancel()
    return { ok: false, status: response.status }
  }
  const body = (await response.json()) as { data?: Record<string, unknown> }
  const data = body.data ?? {}
  if (typeof data.label !== 'string' || typeof data.usage !== 'number') {
    throw new Error('OpenRouter answered GET /key with a shape this service does not know')
  }
  return {
    ok: true,
    credits: {
      label: data.label,
      limitRemaining: typeof data.limit_remaining === 'number' ? data.limit_remaining : null,
      usage: data.usage,
    },
  }
}
