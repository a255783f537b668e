import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'

const MARK = '<!-- adding-a-vendor: examples/adding-a-vendor/src/acme.test.ts -->\n```ts\n'

it('the README\'s "Adding a vendor" shows acme.test.ts exactly as the test suite runs it', async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')
  const example = await readFile(new URL('./acme.test.ts', import.meta.url), 'utf8')
  const start = readme.indexOf(MARK)
  expect(start).toBeGreaterThan(0)
  const shown = readme.slice(start + MARK.length, readme.indexOf('```\n', start + MARK.length))
  expect(shown).toBe(example)
})
