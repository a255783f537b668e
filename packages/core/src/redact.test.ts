import { describe, expect, it } from 'vitest'
import { Redactor } from './redact.js'

describe('Redactor.sharesWith', () => {
  const secret = `sk-or-v1-${'0123456789abcdef'.repeat(4)}`
  const redactor = new Redactor()
  redactor.add(secret)

  it('finds the secret itself, within longer text and in capitals', () => {
    expect(redactor.sharesWith(secret)).toBe(true)
    expect(redactor.sharesWith(`id-${secret}-x`)).toBe(true)
    expect(redactor.sharesWith(secret.toUpperCase())).toBe(true)
  })

  it("finds a run of 12 of the secret's characters: its body without the prefix, a piece of it", () => {
    expect(redactor.sharesWith(secret.slice('sk-or-v1-'.length))).toBe(true)
    expect(redactor.sharesWith(`tok_${secret.slice(20, 32)}`)).toBe(true)
  })

  it('takes 11 shared characters, or none, for an unrelated id', () => {
    expect(redactor.sharesWith(secret.slice(20, 31))).toBe(false)
    expect(redactor.sharesWith('f'.repeat(64))).toBe(false)
  })

  it('finds a secret shorter than 12 characters only whole', () => {
    const short = new Redactor()
    short.add('hunter2pw')
    expect(short.sharesWith('x-HUNTER2PW')).toBe(true)
    expect(short.sharesWith('hunter2p')).toBe(false)
  })
})
