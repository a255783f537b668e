import { CliError } from './cli-error.js'
import { EXIT } from './exit-codes.js'

/** Arguments a shell passes on unchanged; anything else is single-quoted. */
const PLAIN = /^[\w@%+=:,./-]+$/

/** An argument as a shell needs it written. */
export function shellWord(word: string): string {
  return PLAIN.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/**
 * The command that finishes batch `batchId`: the arguments as given, with `--batch-id`
 * (added, or replaced where it named another batch), so the same stores, config, journal and
 * answers (`--yes`) apply.
 */
export function resumeCommand(argv: readonly string[], batchId: string): string {
  const kept: string[] = []
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] as string
    if (word === '--batch-id') {
      index++
      continue
    }
    if (word.startsWith('--batch-id=')) continue
    if (word === '--') {
      kept.push(...argv.slice(index))
      break
    }
    kept.push(word)
  }
  return ['keyway', ...kept, '--batch-id', batchId].map(shellWord).join(' ')
}

/**
 * What an interrupted batch ends with: exit 2, and as the last line the command that finishes
 * exactly the keys it began (each resumes from its journal step, so none gets a second successor).
 */
export function interrupted(
  argv: readonly string[],
  batchId: string,
  journalPath: string,
  cause: unknown,
): CliError {
  return new CliError(
    'Interrupted',
    `stopped before finishing batch ${batchId} (journal ${journalPath}); to finish it, run the command below`,
    { exitCode: EXIT.cancelled, next: resumeCommand(argv, batchId), cause },
  )
}

/** Whether the operator's Ctrl-C (or a SIGTERM) stopped the work: whatever it threw then. */
export function isAbort(signal: AbortSignal): boolean {
  return signal.aborted
}
