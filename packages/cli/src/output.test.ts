import { stripVTControlCharacters, styleText } from 'node:util'
import { describe, expect, it } from 'vitest'
import { printable, table, visibleWidth } from './output.js'

describe('printable', () => {
  it('shows control characters and bidi overrides as escapes, and leaves other text alone', () => {
    expect(printable('a\u001b[31mb\r\nc\u0000d\u009be\u202ef')).toBe(
      'a\\u001b[31mb\\u000d\\u000ac\\u0000d\\u009be\\u202ef',
    )
    expect(printable('ci-deploy ✓ ключ')).toBe('ci-deploy ✓ ключ')
  })
})

describe('table', () => {
  it('pads columns by what shows on screen, so coloured cells stay aligned', () => {
    const paint = (style: Parameters<typeof styleText>[0], text: string) =>
      styleText(style, text, { validateStream: false })
    const lines = table(
      ['ID', 'STATUS', 'NAME'],
      [
        ['k1', paint('green', 'active'), 'one'],
        ['key-2', paint('yellow', 'disabled'), 'two'],
      ],
      paint,
    )
      .split('\n')
      .map((line) => stripVTControlCharacters(line))
    expect(lines).toEqual(['ID     STATUS    NAME', 'k1     active    one', 'key-2  disabled  two'])
  })
})

describe('visibleWidth', () => {
  it.each([
    ['abc', 3],
    ['\u001b[32mactive\u001b[39m', 6],
    ['鍵キー', 6],
    ['🔑 key', 6],
    ['é', 1],
    ['…ca3b', 5],
  ])('%j takes %i columns', (text, columns) => {
    expect(visibleWidth(text)).toBe(columns)
  })
})

describe('table when not on a terminal', () => {
  it('is one tab-separated line per row, no header, no colour codes', () => {
    const paint = (style: Parameters<typeof styleText>[0], text: string) =>
      styleText(style, text, { validateStream: false })
    const text = table(
      ['ID', 'STATUS'],
      [
        ['k1', paint('green', 'active')],
        ['key-2', paint('yellow', 'disabled')],
      ],
      paint,
      { terminal: false },
    )
    expect(text).toBe('k1\tactive\nkey-2\tdisabled')
  })

  it('aligns wide characters on a terminal', () => {
    const lines = table(
      ['NAME', 'STATUS'],
      [
        ['鍵', 'a'],
        ['ab', 'b'],
      ],
      (_, text) => text,
      {
        terminal: true,
      },
    ).split('\n')
    expect(lines).toEqual(['NAME  STATUS', '鍵    a', 'ab    b'])
  })
})
