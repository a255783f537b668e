import { createServer, type Server } from 'node:http'
import type { KeyFile } from './key-file.js'
import { type CreditsAnswer, fetchCredits } from './openrouter-credits.js'

/** Settings of the service. */
export interface ServiceOptions {
  /** Where the OpenRouter key is read from, on every request (see `KeyFile`). */
  keyFile: KeyFile
  /** OpenRouter's API root, e.g. `https://openrouter.ai/api/v1`. */
  vendorUrl: string
}

/**
 * A small HTTP service: `GET /credits` answers with what OpenRouter says about the service's
 * key. The key is looked up per request, so a rotated key is used without a restart. If
 * OpenRouter refuses the key (401), the file is read again and, when it holds another key,
 * the call is made once more: a request that picked up the old key just before it was
 * retired still succeeds.
 */
export function createService(options: ServiceOptions): Server {
  return createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(JSON.stringify(body))
    }
    if (request.method !== 'GET' || request.url !== '/credits') {
      reply(404, { error: 'not found' })
      return
    }
    credits(options).then(
      (answer) =>
        answer.ok
          ? reply(200, answer.credits)
          : reply(502, { error: `OpenRouter refused the request (${answer.status})` }),
      // Our own errors hold no key; the message says what went wrong.
      (error: unknown) =>
        reply(502, { error: error instanceof Error ? error.message : 'unknown error' }),
    )
  })
}

async function credits({ keyFile, vendorUrl }: ServiceOptions): Promise<CreditsAnswer> {
  const key = await keyFile.current()
  const answer = await fetchCredits(vendorUrl, key)
  if (answer.ok || answer.status !== 401) return answer
  const reloaded = await keyFile.reload()
  return reloaded === key ? answer : fetchCredits(vendorUrl, reloaded)
}
