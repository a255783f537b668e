import { writeTokenOf } from '@keyway/core/adapter'
import { describe, expect, it } from 'vitest'
import { TARGET_TEST_SECRET, targetTestKit } from './target-test-kit.js'
import { useEmulator } from './use-emulator.js'
import { startVaultEmulator } from './vault-emulator.js'

describe('targetTestKit', () => {
  it('hands every step the same write token, the new key and a deadline; a call may change the value and deadline', () => {
    const kit = targetTestKit({ target: 'aws' })
    expect(kit.secret).toBe(TARGET_TEST_SECRET)
    expect(kit.writeToken).toBe(writeTokenOf('r1', 'aws', 'k2'))
    const before = Date.now()
    const first = kit.context()
    expect(first).toMatchObject({
      rotationId: 'r1',
      oldKeyId: 'k1',
      newKeyId: 'k2',
      writeToken: kit.writeToken,
      receipt: {},
    })
    expect(first.created.key.id).toBe('k2')
    expect(first.created.secret.reveal()).toBe(TARGET_TEST_SECRET)
    expect(first.deadline).toBeGreaterThanOrEqual(before + 10_000)
    const other = kit.context({ version: 'v1' }, { value: 'other', deadlineMs: 50 })
    expect(other.receipt).toEqual({ version: 'v1' })
    expect(other.created.secret.reveal()).toBe('other')
    expect(other.deadline).toBeLessThan(before + 10_000)
    expect(kit.created('x').secret.reveal()).toBe('x')
  })

  it('derives the token from its own rotation, target and key', () => {
    const kit = targetTestKit({ target: 'vault', rotationId: 'r9', newKeyId: 'k7', secret: 's' })
    expect(kit.writeToken).toBe(writeTokenOf('r9', 'vault', 'k7'))
    expect(kit.context().created.secret.reveal()).toBe('s')
    expect(kit.writeToken).not.toBe(targetTestKit({ target: 'aws' }).writeToken)
  })
})

describe('useEmulator', () => {
  const vault = useEmulator(startVaultEmulator)
  const urls: string[] = []

  it('stands for a running emulator in each test', async () => {
    vault.control.seed('web/prod', { API_KEY: 'old' })
    const response = await fetch(`${vault.url}/v1/secret/data/web/prod`, {
      headers: { 'x-vault-token': vault.settings.token },
    })
    expect(response.status).toBe(200)
    expect(vault.requests).toHaveLength(1)
    urls.push(vault.url)
  })

  it('starts a fresh one for the next test and closed the last', async () => {
    expect(vault.requests).toHaveLength(0)
    expect(vault.url).not.toBe(urls[0])
    await expect(fetch(`${urls[0]}/v1/sys/health`)).rejects.toThrow()
  })
})

describe('useEmulator outside a test', () => {
  const outside = useEmulator(startVaultEmulator)
  const error = (() => {
    try {
      return outside.url
    } catch (thrown) {
      return thrown
    }
  })()
  it('throws when read where no emulator runs', () => {
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toContain('only inside a test')
  })
})
