/** One undo: what it undoes, in words for errors, and how. */
interface Compensation {
  what: string
  undo: () => Promise<void>
}

/**
 * The undo list of a rotation, as in a saga: after a step succeeds it registers how to undo
 * its effect; when a later step fails, the list runs once, newest first. `seal()` marks the
 * point of no return (the store switched to the new key): nothing registered so far may be
 * undone after it.
 */
export class Compensations {
  #list: Compensation[] = []

  /** Registers the undo of a step that just succeeded. */
  push(what: string, undo: () => Promise<void>): void {
    this.#list.push({ what, undo })
  }

  /** Whether anything would be undone. */
  get pending(): boolean {
    return this.#list.length > 0
  }

  /** Drops every undo registered so far: from here on, a failure undoes nothing. */
  seal(): void {
    this.#list = []
  }

  /**
   * Runs every undo, newest first, once; an undo that fails does not stop the others.
   * Returns what could not be undone, with why.
   */
  async run(): Promise<Array<{ what: string; error: unknown }>> {
    const list = this.#list.reverse()
    this.#list = []
    const failed: Array<{ what: string; error: unknown }> = []
    for (const { what, undo } of list) {
      try {
        await undo()
      } catch (error) {
        failed.push({ what, error })
      }
    }
    return failed
  }
}
