import type { IncomingMessage } from 'node:http'

/** The largest form body accepted; the dashboard's forms are a few hundred bytes. */
export const MAX_FORM_BYTES = 16 * 1024

/** Reads an `application/x-www-form-urlencoded` body; `undefined` when it is not one or too large. */
export async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_FORM_BYTES) return undefined
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}
