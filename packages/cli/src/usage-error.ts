import { CliError } from './cli-error.js'
import { EXIT, type ExitCode } from './exit-codes.js'

/** A mistake in how the command was called: exit code 1 (as gh), with a hint. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string, exitCode: ExitCode = EXIT.failure) {
    super('UsageError', message, { hint, exitCode })
  }
}
