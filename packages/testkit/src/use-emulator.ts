import { afterEach, beforeEach } from 'vitest'

/**
 * Starts a fresh emulator before each test of the enclosing file or `describe` and closes it
 * after, and returns an object that stands for the running test's emulator:
 *
 * ```ts
 * const aws = useEmulator(startAwsSecretsManagerEmulator)
 * it('…', async () => {
 *   aws.control.seedSecret('prod/api', 'old')
 *   createSecretsManagerTarget({ ...aws.settings, secretId: 'prod/api' })
 * })
 * ```
 *
 * Reading it outside a test (at the top of the file, in `describe`) throws: no emulator runs
 * there.
 */
export function useEmulator<E extends { close(): Promise<void> }>(start: () => Promise<E>): E {
  let current: E | undefined
  beforeEach(async () => {
    current = await start()
  })
  afterEach(async () => {
    const running = current
    current = undefined
    await running?.close()
  })
  const running = (): E => {
    if (current === undefined) {
      throw new Error(
        'useEmulator: the emulator runs only inside a test (between beforeEach and afterEach)',
      )
    }
    return current
  }
  return new Proxy({} as E, {
    get: (_target, property) => Reflect.get(running(), property),
    has: (_target, property) => Reflect.has(running(), property),
  })
}
