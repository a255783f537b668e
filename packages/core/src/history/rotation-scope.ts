import { AsyncLocalStorage } from 'node:async_hooks'

/** The rotation a store call belongs to, as history records it. */
export interface RotationScope {
  rotationId: string
  step: string
}

const scope = new AsyncLocalStorage<RotationScope>()

/** Runs `work` as part of a rotation's step: the changes it makes are recorded as such. */
export function inRotationScope<T>(rotation: RotationScope, work: () => Promise<T>): Promise<T> {
  return scope.run(rotation, work)
}

/** The rotation step running now, if any. */
export function currentRotationScope(): RotationScope | undefined {
  return scope.getStore()
}
