import { EXIT, type ExitCode } from './exit-codes.js'

/** An error the CLI explains itself: one line, a hint in operator terms, and its exit code. */
export class CliError extends Error {
  readonly hint: string | undefined
  readonly exitCode: ExitCode
  constructor(
    name: string,
    message: string,
    options: { hint?: string | undefined; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = name
    this.hint = options.hint
    this.exitCode = options.exitCode ?? EXIT.failure
  }
}

/** The operator stopped it: a prompt answered no. Exit 2. */
export class CancelledError extends CliError {
  constructor(message: string) {
    super('Cancelled', message, { exitCode: EXIT.cancelled })
  }
}
