import { ProviderError, TimeoutError, ValidationError } from '../errors.js'
import type { DeliveryTarget, TargetReceipt } from './delivery-target.js'

/**
 * A place consumers read variables from (a stand-in for a CI secret store or a hosting
 * platform), with a target that writes one variable of it. Faults play once each, in order.
 */
export class Place {
  readonly variables = new Map<string, string>()
  /** Every write that reached the place: variable, value and the key id it was for. */
  readonly writes: Array<{ variable: string; value: string; keyId: string }> = []
  /** Every redeploy started. */
  readonly deploys: string[] = []
  readonly faults: PlaceFault[] = []
  /** Told at each confirm, before it answers. */
  onConfirm: (() => void) | undefined

  constructor(readonly name: string) {}

  /**
   * `finds`: the target can tell, after an interruption, whether a write or redeploy it sent
   * landed (`look` and `landed`), as the GitHub and Vercel targets can.
   */
  target(
    variable: string,
    options: { redeploy?: boolean; name?: string; finds?: boolean } = {},
  ): DeliveryTarget {
    const place = this
    const fault = (step: PlaceFault['step']) => {
      const at = place.faults.findIndex((candidate) => candidate.step === step)
      return at === -1 ? undefined : place.faults.splice(at, 1)[0]
    }
    return {
      name: options.name ?? `${place.name}:${variable}`,
      description: {
        kind: 'place',
        location: `${place.name}, variable ${variable}`,
        propagate: options.redeploy ? 'a redeploy' : 'nothing',
        confirm: 'reads the value back',
        cannotConfirm: null,
      },
      confirmWithinMs: 5_000,
      async write(created, context) {
        const played = fault('write')
        if (played?.kind === 'refused') {
          throw new ValidationError({
            provider: place.name,
            operation: 'write',
            status: 422,
            message: `${place.name} write refused`,
          })
        }
        if (played?.kind === 'error') {
          throw new ProviderError({
            provider: place.name,
            operation: 'write',
            status: 503,
            retryable: true,
            message: `${place.name} write failed with 503`,
          })
        }
        place.variables.set(variable, created.secret.reveal())
        place.writes.push({ variable, value: created.secret.reveal(), keyId: context.newKeyId })
        if (played?.kind === 'lost') {
          throw new TimeoutError({
            provider: place.name,
            operation: 'write',
            message: `${place.name} write timed out`,
          })
        }
        return { version: place.writes.length }
      },
      ...(options.redeploy
        ? {
            async propagate() {
              const played = fault('propagate')
              if (played !== undefined) {
                throw new ProviderError({
                  provider: place.name,
                  operation: 'redeploy',
                  status: 500,
                  retryable: true,
                  message: `${place.name} redeploy failed`,
                })
              }
              place.deploys.push(variable)
              return { deployment: `d${place.deploys.length}` }
            },
          }
        : {}),
      ...(options.finds
        ? {
            async look(step): Promise<TargetReceipt> {
              return step === 'write'
                ? { seenWrites: place.writes.length }
                : { seenDeploys: place.deploys.length }
            },
            async landed(step, context): Promise<TargetReceipt | undefined> {
              if (step === 'propagate') {
                const seen = Number(context.receipt.seenDeploys)
                return place.deploys.length > seen
                  ? { deployment: `d${place.deploys.length}` }
                  : undefined
              }
              const since = place.writes.slice(Number(context.receipt.seenWrites))
              const mine = since.find(
                (write) => write.variable === variable && write.keyId === context.newKeyId,
              )
              return mine === undefined ? undefined : { version: place.writes.indexOf(mine) + 1 }
            },
          }
        : {}),
      async confirm(context) {
        place.onConfirm?.()
        if (fault('confirm') !== undefined) {
          throw new TimeoutError({
            provider: place.name,
            operation: 'confirm',
            message: `${place.name} did not confirm by the deadline`,
          })
        }
        if (typeof context.receipt.version !== 'number')
          throw new Error('no version in the receipt')
        const last = place.writes.filter((write) => write.variable === variable).at(-1)
        if (last?.keyId !== context.newKeyId) {
          throw new Error(`${place.name} does not hold ${context.newKeyId}`)
        }
      },
    }
  }
}

/** A fault a place plays once. `lost`: the write lands, its answer does not. */
export interface PlaceFault {
  step: 'write' | 'propagate' | 'confirm'
  kind?: 'error' | 'refused' | 'lost'
}
