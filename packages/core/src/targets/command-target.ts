import { spawn } from 'node:child_process'
import { ProviderError, ValidationError } from '../errors.js'
import type { DeliveryTarget } from './delivery-target.js'

/** Settings of `createCommandTarget`. */
export interface CommandTargetSettings {
  /** A shell command; it reads the new secret, and a newline, on its standard input. */
  command: string
  /**
   * The command's environment, to which `KEYWAY_PROVIDER`, `KEYWAY_KEY_ID` and
   * `KEYWAY_KEY_NAME` are added. Default: this process's.
   */
  env?: Record<string, string | undefined>
  /** The folder it runs in. Default: the current one. */
  cwd?: string
  /** The target's name in journals and reports. Default `exec:<command>`. */
  name?: string
}

/**
 * A delivery target that hands the new secret to a command on its standard input (a
 * deployment script, a secret manager's own CLI). write: runs the command, which must exit
 * with 0; propagate and confirm: nothing more (the command's exit status is its word that
 * the secret is in place). It must be idempotent: a resume after a lost answer runs it again
 * with the same secret. Neither its output nor its errors are read, so no secret leaks
 * through them.
 */
export function createCommandTarget(settings: CommandTargetSettings): DeliveryTarget {
  const command = typeof settings.command === 'string' ? settings.command.trim() : ''
  if (command === '') {
    throw new ValidationError({
      provider: 'exec',
      operation: 'configure',
      message: 'exec target: invalid setting command (a shell command)',
      issues: [{ path: 'command', message: 'a shell command' }],
    })
  }
  return {
    name: settings.name ?? `exec:${command}`,
    description: {
      kind: 'exec',
      location: `the command ${command}`,
      propagate: "nothing: the command's own job",
      confirm: 'the command exited with 0',
      cannotConfirm: 'what the command did with the secret: its exit status is taken as its word',
    },
    write(created) {
      return new Promise((resolve, reject) => {
        const child = spawn(command, {
          shell: true,
          cwd: settings.cwd,
          stdio: ['pipe', 'ignore', 'inherit'],
          env: {
            ...(settings.env ?? process.env),
            KEYWAY_PROVIDER: created.key.provider,
            KEYWAY_KEY_ID: created.key.id,
            KEYWAY_KEY_NAME: created.key.name ?? '',
          },
        })
        const failed = (message: string) =>
          new ProviderError({
            provider: 'exec',
            operation: 'write',
            message,
          })
        child.on('error', () => reject(failed('the delivery command could not be started')))
        child.on('close', (code) =>
          code === 0
            ? resolve(undefined)
            : reject(failed(`the delivery command exited with code ${code}`)),
        )
        child.stdin.on('error', () => {})
        child.stdin.end(`${created.secret.reveal()}\n`)
      })
    },
    async confirm() {},
  }
}
