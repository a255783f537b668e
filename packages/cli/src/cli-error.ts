import { EXIT, type ExitCode } from './exit-codes.js'

/** An error the CLI explains itself: one line, a hint in operator terms, and its exit code. */
export class CliError extends Error {
  readonly hint: string | undefined
  readonly exitCode: ExitCode
  /** A command to run next, printed alone on the last line so it can be copied as it is. */
  readonly next: string | undefined
  constructor(
    name: string,
    message: string,
    options: {
      hint?: string | undefined
      exitCode?: ExitCode
      cause?: unknown
      next?: string | undefined
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = name
    this.hint = options.hint
    this.next = options.next
    this.exitCode = options.exitCode ?? EXIT.failure
  }
}

/** The operator stopped it: a prompt answered no. Exit 2. */
export class CancelledError extends CliError {
  constructor(message: string) {
    super('Cancelled', message, { exitCode: EXIT.cancelled })
  }
}
