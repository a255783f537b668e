// Every error the Anthropic emulator answers, read by the official SDK: the vendor's
// `{type: "error", error: {type, message}}` must become the SDK's typed error class for the
// status, with the error's type and message parsed into it.
import Anthropic from '@anthropic-ai/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type AnthropicEmulator,
  API_KEYS_PATH,
  anthropicSdkFor,
  startAnthropicEmulator,
} from './anthropic-sdk.js'

let emulator: AnthropicEmulator

beforeEach(async () => {
  emulator = await startAnthropicEmulator()
})

afterEach(async () => {
  await emulator.close()
})

describe("the emulator's own errors, as the SDK reads them", () => {
  it('401 for an unknown key: AuthenticationError', async () => {
    const sdk = anthropicSdkFor(emulator, 'sk-ant-admin01-not-a-real-key')
    const error = await sdk.organization.apiKeys.list().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(error).toMatchObject({
      status: 401,
      type: 'authentication_error',
      apiMessage: 'invalid x-api-key',
      error: {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      },
    })
  })

  it('403 for an ordinary API key at the Admin API: PermissionDeniedError', async () => {
    const { secret } = emulator.control.seedKey({ name: 'not-admin' })
    const error = await anthropicSdkFor(emulator, secret)
      .organization.apiKeys.list()
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError)
    expect(error).toMatchObject({ status: 403, type: 'permission_error' })
  })

  it('404 for an unknown key id: NotFoundError', async () => {
    const error = await anthropicSdkFor(emulator)
      .organization.apiKeys.retrieve('apikey_01NoSuchKey')
      .catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Anthropic.NotFoundError)
    expect(error).toMatchObject({
      status: 404,
      type: 'not_found_error',
      apiMessage: 'API key apikey_01NoSuchKey not found',
    })
  })

  it('400 for invalid input: BadRequestError, nothing changed', async () => {
    const { id } = emulator.control.seedKey({ name: 'kept' })
    const sdk = anthropicSdkFor(emulator)
    for (const body of [{ status: 'expired' }, { name: '' }, { name: 'x', extra: true }]) {
      const error = await sdk.organization.apiKeys
        .update(id, body as never)
        .catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(Anthropic.BadRequestError)
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' })
    }
    const pageError = await sdk.organization.apiKeys
      .list({ limit: 1001 })
      .catch((thrown: unknown) => thrown)
    expect(pageError).toBeInstanceOf(Anthropic.BadRequestError)
    expect((await sdk.organization.apiKeys.retrieve(id)).name).toBe('kept')
  })

  it('400 for a request without anthropic-version', async () => {
    const response = await fetch(`${emulator.url}${API_KEYS_PATH}`, {
      headers: { 'x-api-key': emulator.settings.adminKey as string },
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    })
  })
})

describe('injected statuses, in the vendor error shape', () => {
  const cases: Array<[number, abstract new (...args: never[]) => Error, string]> = [
    [429, Anthropic.RateLimitError, 'rate_limit_error'],
    [500, Anthropic.InternalServerError, 'api_error'],
    [503, Anthropic.ServiceUnavailableError, 'api_error'],
    [529, Anthropic.OverloadedError, 'overloaded_error'],
  ]
  for (const [status, errorClass, type] of cases) {
    it(`${status}: ${errorClass.name}`, async () => {
      emulator.inject({ match: { method: 'GET' }, status })
      const error = await anthropicSdkFor(emulator)
        .organization.apiKeys.list()
        .catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(errorClass)
      expect(error).toMatchObject({ status, type })
    })
  }

  it('429 carries retry-after from the rate limiter', async () => {
    await emulator.close()
    emulator = await startAnthropicEmulator({
      rateLimit: { read: { requests: 1, windowMs: 60_000 } },
    })
    const sdk = anthropicSdkFor(emulator)
    await sdk.organization.apiKeys.list()
    const error = await sdk.organization.apiKeys.list().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Anthropic.RateLimitError)
    expect((error as { headers: Headers }).headers.get('retry-after')).toBe('60')
  })
})
