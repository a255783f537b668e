import { request as httpsRequest } from 'node:https'

/** What a cluster's TLS needs beyond the system's trust store. */
export interface TlsOptions {
  /** The cluster's CA certificate(s), PEM. */
  ca?: string | undefined
  /** A client certificate and its key, PEM, where the user authenticates with one. */
  cert?: string | undefined
  key?: string | undefined
  /** `false` only where the kubeconfig says `insecure-skip-tls-verify: true`. */
  rejectUnauthorized?: boolean
}

/**
 * A fetch over `node:https` that trusts the cluster's own CA (and presents a client
 * certificate where given): Node's global fetch cannot take a CA per request. It reads the
 * whole answer and honours the request's signal, which is all keyway's HTTP client asks of it.
 */
export function tlsFetch(tls: TlsOptions): typeof globalThis.fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer())
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpsRequest(
        request.url,
        {
          method: request.method,
          headers: Object.fromEntries(request.headers),
          ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          ...(tls.cert === undefined ? {} : { cert: tls.cert }),
          ...(tls.key === undefined ? {} : { key: tls.key }),
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
          signal: request.signal,
        },
        (incoming) => {
          const chunks: Buffer[] = []
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
          incoming.on('error', reject)
          incoming.on('end', () => {
            const headers = new Headers()
            for (const [name, value] of Object.entries(incoming.headers)) {
              for (const one of [value ?? []].flat()) headers.append(name, one)
            }
            const status = incoming.statusCode ?? 500
            resolve(
              new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), {
                status,
                statusText: incoming.statusMessage ?? '',
                headers,
              }),
            )
          })
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })
  }
}
