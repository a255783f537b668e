import { type HttpClient, type HttpRequest, KeyStoreError } from '@keyway/core/adapter'
import type * as v from 'valibot'
import { loginResponseSchema, refreshResponseSchema } from './notedx-schemas.js'

export type NoteDxCredentials = { idToken: string } | { email: string; password: string }

/**
 * NoteDx's Firebase session: logs in on first use, refreshes an expired ID token once, and
 * logs in again when the refresh fails. Concurrent calls share one login or refresh.
 */
export class NoteDxSession {
  readonly #client: HttpClient
  readonly #credentials: NoteDxCredentials
  #idToken: string | undefined
  #refreshToken: string | undefined
  #pending: Promise<string> | undefined

  constructor(client: HttpClient, credentials: NoteDxCredentials) {
    this.#client = client
    this.#credentials = credentials
    if ('idToken' in credentials) this.#idToken = credentials.idToken
  }

  /** Sends `request` with the current ID token, renewing it once if NoteDx says it expired. */
  async request<TSchema extends v.GenericSchema | undefined>(request: HttpRequest<TSchema>) {
    const token = await this.#token(request.signal)
    try {
      return await this.#client.request({
        ...request,
        headers: { authorization: `Bearer ${token}` },
      })
    } catch (error) {
      if (!(KeyStoreError.is(error) && error.status === 401) || 'idToken' in this.#credentials)
        throw error
      const renewed = await this.#renew(token, request.signal)
      return this.#client.request({ ...request, headers: { authorization: `Bearer ${renewed}` } })
    }
  }

  #token(signal: AbortSignal | undefined): Promise<string> {
    if (this.#idToken !== undefined) return Promise.resolve(this.#idToken)
    return this.#singleFlight(() => this.#login(signal))
  }

  /** Renews a token that was refused, unless another call has already replaced it. */
  #renew(refused: string, signal: AbortSignal | undefined): Promise<string> {
    if (this.#idToken !== undefined && this.#idToken !== refused)
      return Promise.resolve(this.#idToken)
    return this.#singleFlight(async () => {
      if (this.#refreshToken !== undefined) {
        try {
          return await this.#refresh(this.#refreshToken, signal)
        } catch (error) {
          if (!(KeyStoreError.is(error) && (error.status === 401 || error.status === 400)))
            throw error
        }
      }
      return this.#login(signal)
    })
  }

  #singleFlight(work: () => Promise<string>): Promise<string> {
    this.#pending ??= work().finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  async #login(signal: AbortSignal | undefined): Promise<string> {
    const { email, password } = this.#credentials as { email: string; password: string }
    const response = await this.#client.request({
      operation: 'login',
      method: 'POST',
      path: '/auth/login',
      json: { email, password },
      schema: loginResponseSchema,
      // Logging in creates nothing, so it is safe to retry like a read.
      retryAs: 'read',
      signal,
    })
    return this.#accept(response.data.id_token, response.data.refresh_token)
  }

  async #refresh(refreshToken: string, signal: AbortSignal | undefined): Promise<string> {
    const response = await this.#client.request({
      operation: 'refresh',
      method: 'POST',
      path: '/auth/refresh',
      json: { refresh_token: refreshToken },
      schema: refreshResponseSchema,
      // Refreshing creates nothing either.
      retryAs: 'read',
      signal,
    })
    return this.#accept(response.data.id_token, response.data.refresh_token ?? refreshToken)
  }

  #accept(idToken: string, refreshToken: string): string {
    this.#client.redactor.add(idToken, refreshToken)
    this.#idToken = idToken
    this.#refreshToken = refreshToken
    return idToken
  }
}
