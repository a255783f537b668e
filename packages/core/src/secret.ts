const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')
const values = new WeakMap<Secret, string>()

/**
 * The only place a usable secret lives. The value is held outside the object, so
 * `JSON.stringify`, `util.inspect`, template strings and structured logging all see
 * the masked form; `reveal()` is the one way to read it.
 */
export class Secret {
  /** Last 4 characters, for display. */
  readonly hint: string

  constructor(value: string) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new TypeError('A Secret needs a non-empty string value')
    }
    values.set(this, value)
    this.hint = value.length > 8 ? value.slice(-4) : ''
  }

  /** The secret value itself. Call it only where the value must leave the process. */
  reveal(): string {
    return values.get(this) as string
  }

  /** The masked form, e.g. `Secret(…ca3b)`. */
  toString(): string {
    return this.hint ? `Secret(…${this.hint})` : 'Secret(****)'
  }

  /** The masked form, so a Secret inside JSON never shows its value. */
  toJSON(): string {
    return this.toString()
  }

  /** The masked form, for `util.inspect` and `console.log`. */
  [inspectSymbol](): string {
    return this.toString()
  }

  /** Recognises a Secret from another copy of this package. */
  static is(value: unknown): value is Secret {
    return (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as Secret).reveal === 'function' &&
      (value as Record<symbol, unknown>)[secretMarker] === true
    )
  }
}

const secretMarker = Symbol.for('keyway.secret')
Object.defineProperty(Secret.prototype, secretMarker, { value: true })
