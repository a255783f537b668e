// A plain fetch helper for the emulator tests: no keyway code between the test and the wire.
import * as v from 'valibot'
import { expect } from 'vitest'

export interface Answer {
  status: number
  body: unknown
  headers: Headers
}

export async function call(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: response.status, body: parsed, headers: response.headers }
}

/** Asserts that `value` matches `schema`, showing valibot's issues when it does not. */
export function expectShape<T extends v.GenericSchema>(
  schema: T,
  value: unknown,
): v.InferOutput<T> {
  const result = v.safeParse(schema, value)
  expect(result.issues?.map((issue) => `${v.getDotPath(issue)}: ${issue.message}`) ?? []).toEqual(
    [],
  )
  return result.output as v.InferOutput<T>
}
