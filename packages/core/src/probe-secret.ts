import type * as v from 'valibot'
import { KeyStoreError } from './errors.js'
import type { HttpClient, HttpRequest } from './http-client.js'
import type { Secret } from './secret.js'

/**
 * Verifies a secret by making a read call with it: a 2xx means it works; 401 means the
 * vendor does not accept it; 403 means the vendor knows it but it may not make this call,
 * which still proves it works. Any other failure is thrown.
 */
export async function probeSecret(
  client: HttpClient,
  secret: Secret,
  request: (
    value: string,
  ) => Omit<HttpRequest<v.GenericSchema | undefined>, 'operation' | 'secrets'>,
): Promise<boolean> {
  const value = secret.reveal()
  try {
    await client.request({ ...request(value), operation: 'verify', secrets: [value] })
    return true
  } catch (error) {
    if (KeyStoreError.is(error) && error.status === 401) return false
    if (KeyStoreError.is(error) && error.status === 403) return true
    throw error
  }
}
