// Rotates every OpenRouter key whose name starts with KEY_PREFIX, writing each new secret
// to a dotenv file before the old key is deleted. Each new key gets the old key's settings
// (limit, reset, expiry, workspace, guardrail). The keys are chosen on the batch's first run
// and journalled under its id: running it again the same day finishes exactly what was left
// (and changes nothing once the batch is done), never rotating a key the batch made.
//
//   OPENROUTER_MANAGEMENT_KEY=... KEY_PREFIX=ci- pnpm start
//
// The new secrets and the journal go to `.secrets/` (git-ignored) unless ENV_FILE and
// JOURNAL_FILE say otherwise.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type CreatedKey, fileJournal, KeyStoreError, rotateKeys } from '@keyway/core'
import { createOpenRouterKeyStore } from '@keyway/openrouter'

export interface RotateOptions {
  prefix: string
  envFile: string
  journalFile: string
  batchId: string
  /** Wait once, after every new key is delivered, before the old keys go. Default `0`. */
  graceMs?: number
  /** Passed to the store; the management key defaults to OPENROUTER_MANAGEMENT_KEY. */
  settings?: Parameters<typeof createOpenRouterKeyStore>[0]
}

/** Where a run by hand writes the new secrets: in a folder `.gitignore` keeps out of git. */
export const DEFAULT_ENV_FILE = '.secrets/rotated.env'
/** Where a run by hand keeps its journal (ids and steps only), beside the secrets. */
export const DEFAULT_JOURNAL_FILE = '.secrets/keyway-rotations.json'

export async function rotateByPrefix(options: RotateOptions) {
  // Only the owner may read the folder the secrets are written to.
  for (const file of [options.envFile, options.journalFile]) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  }
  const store = createOpenRouterKeyStore({
    ...options.settings,
    // Log each retry: plain data, URLs redacted, never a secret.
    hooks: {
      retry: (event) =>
        console.error(`retrying ${event.operation} in ${event.delayMs} ms (${event.reason})`),
    },
  })
  return rotateKeys(store, {
    filter: (key) => key.name?.startsWith(options.prefix) ?? false,
    batchId: options.batchId,
    journal: fileJournal(options.journalFile),
    concurrency: 2,
    deliver: (created) => writeSecret(options.envFile, created),
    retire: 'delete',
    graceMs: options.graceMs ?? 0,
    onProgress: (event) => {
      if (event.kind === 'waiting') {
        console.error(`waiting ${event.ms} ms (${event.reason})`)
        return
      }
      const { done, total, outcome } = event
      console.error(`[${done}/${total}] ${outcome.keyId}: ${outcome.status}`)
      // What could not be carried over to the new key (a spend alert, BYOK hashes…).
      if (outcome.status === 'rotated') {
        for (const warning of outcome.result.warnings) console.error(`  note: ${warning}`)
      }
    },
  })
}

/** Adds or replaces `OPENROUTER_<NAME>=<secret>` in a dotenv file. */
async function writeSecret(path: string, created: CreatedKey): Promise<void> {
  const name = `OPENROUTER_${(created.key.name ?? created.key.id).toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`
  const text = await readFile(path, 'utf8').catch(() => '')
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith(`${name}=`))
  await writeFile(path, `${[...lines, `${name}=${created.secret.reveal()}`].join('\n')}\n`, {
    mode: 0o600,
  })
}

// Run as a script: pnpm start
if (import.meta.url === `file://${process.argv[1]}`) {
  const today = new Date().toISOString().slice(0, 10)
  rotateByPrefix({
    prefix: process.env.KEY_PREFIX ?? 'ci-',
    envFile: process.env.ENV_FILE ?? DEFAULT_ENV_FILE,
    journalFile: process.env.JOURNAL_FILE ?? DEFAULT_JOURNAL_FILE,
    batchId: process.env.BATCH_ID ?? `nightly-${today}`,
    graceMs: Number(process.env.GRACE_MS ?? 60_000),
  }).then(
    (result) => {
      console.log(`${result.rotated} rotated, ${result.failed} failed, ${result.skipped} skipped`)
      process.exitCode = result.failed > 0 ? 1 : 0
    },
    (error: unknown) => {
      // keyway errors carry no secret, so they are safe to print whole.
      console.error(KeyStoreError.is(error) ? `${error.name}: ${error.message}` : error)
      process.exitCode = 1
    },
  )
}
