/** The error types AWS's JSON services answer with 400 when they throttle a caller. */
const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException'])

/**
 * AWS answers throttling with 400 and `__type` `ThrottlingException`, where HTTP says 429:
 * a fetch that passes such an answer on as the 429 it is, so core's retry policy backs off
 * and tries again (a throttled call did nothing), and a run out of retries is a
 * `RateLimitError` (its vendor code still `ThrottlingException`). Every other answer passes as is.
 */
export function throttlingAsRateLimit(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetch(input, init)
    if (response.status !== 400) return response
    const text = await response.clone().text()
    let type: unknown
    try {
      type = (JSON.parse(text) as { __type?: unknown }).__type
    } catch {
      return response
    }
    if (typeof type !== 'string' || !THROTTLED.has(type.split('#').at(-1) ?? '')) return response
    return new Response(text, {
      status: 429,
      statusText: 'Too Many Requests',
      headers: response.headers,
    })
  }
}
