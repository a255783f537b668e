/** What one request to the service got back. */
export interface Outcome {
  status: number
  body: unknown
}

/**
 * Clients that call the service back to back until stopped, recording every outcome. A
 * caller waits for a condition with `until`, checked after each answer: nothing waits a
 * fixed time, so the machine's speed changes only how many requests are sent.
 */
export class Traffic {
  readonly outcomes: Outcome[] = []
  #stopped = false
  #loops: Promise<void>[] = []
  #waiters: Array<{ check: () => boolean; resolve: () => void }> = []

  /** Starts `clients` loops sending `GET url`. */
  constructor(url: string, clients = 2) {
    for (let index = 0; index < clients; index++) this.#loops.push(this.#loop(url))
  }

  /** Requests answered with anything but 200, or not answered at all (status 0). */
  get failed(): Outcome[] {
    return this.outcomes.filter((outcome) => outcome.status !== 200)
  }

  /** Resolves after the first answer at which `check()` holds. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ check, resolve }))
  }

  /** Stops sending and resolves once every request in flight was answered. */
  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
  }

  async #loop(url: string): Promise<void> {
    while (!this.#stopped) {
      try {
        const response = await fetch(url)
        this.outcomes.push({ status: response.status, body: await response.json() })
      } catch (error) {
        this.outcomes.push({ status: 0, body: String(error) })
      }
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.check()) return true
        waiter.resolve()
        return false
      })
    }
  }
}
