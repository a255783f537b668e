import { readFile, stat } from 'node:fs/promises'
import { readVariable } from './dotenv-file.js'

/**
 * The service's key, read from the dotenv file that rotation delivers to. `current()` costs
 * one `stat` while the file is unchanged and reads it again only when it was replaced or
 * changed, so a new key is in use from the first request after delivery wrote it.
 */
export class KeyFile {
  readonly #path: string
  readonly #variable: string
  #seen: { signature: string; key: string } | undefined

  constructor(path: string, variable: string) {
    this.#path = path
    this.#variable = variable
  }

  /** The key in the file now; re-read when the file changed since the last call. */
  async current(): Promise<string> {
    const info = await stat(this.#path)
    // A delivery renames a new file over the old one: a new inode, whatever the clock says.
    const signature = `${info.ino}:${info.size}:${info.mtimeMs}`
    if (this.#seen?.signature === signature) return this.#seen.key
    const key = readVariable(await readFile(this.#path, 'utf8'), this.#variable)
    if (key === undefined || key === '') {
      throw new Error(`${this.#variable} is not set in the key file`)
    }
    this.#seen = { signature, key }
    return key
  }

  /** Reads the file again, whatever its signature says (after the vendor refused the key). */
  async reload(): Promise<string> {
    this.#seen = undefined
    return this.current()
  }
}
