import { stripVTControlCharacters, styleText } from 'node:util'
import { describe, expect, it } from 'vitest'
import { printable, table } from './output.js'

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
