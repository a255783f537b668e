import { AwsClient } from 'aws4fetch'

/** The credentials a request is signed with (SigV4). */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string | undefined
}

/**
 * A fetch that signs each request with SigV4 (aws4fetch) for `service` in `region`, then
 * sends it with `fetch`. The caller's signal is carried over to the signed request, so
 * keyway's time limits and aborts still end it.
 */
export function sigV4Fetch(
  credentials: AwsCredentials,
  scope: { service: string; region: string },
  fetch: typeof globalThis.fetch,
): typeof globalThis.fetch {
  const signer = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    service: scope.service,
    region: scope.region,
    // keyway's client owns retries.
    retries: 0,
  })
  return async (input, init) => {
    const request = new Request(input, init)
    const signed = await signer.sign(request)
    return fetch(signed, { signal: request.signal })
  }
}
