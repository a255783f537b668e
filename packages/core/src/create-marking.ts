import { randomBytes } from 'node:crypto'
import { ValidationError } from './errors.js'
import type { ApiKey, Capabilities, CreateKeyInput, UpdateKeyInput } from './types.js'
import { type InputContext, MAX_NAME_LENGTH } from './validate.js'

/**
 * How an adapter's creates carry their marker (`CreateOptions.marker`), declared in its
 * `KeyStoreDefinition`. Core sends it, finds keys by it and settles them; the adapter only
 * says which ways its vendor allows.
 */
export interface CreateMarking<C extends CreateKeyInput = CreateKeyInput> {
  /**
   * In a temporary name, `<name>~<marker>`, renamed to the requested name once the create
   * is settled. `maxLength`: the vendor's longest name (default `MAX_NAME_LENGTH`); the
   * requested name is shortened in the temporary one to fit.
   */
  name?: { maxLength?: number }
  /**
   * In a metadata entry `<entry>: <marker>`, removed once the create is settled. Pick an
   * entry name the vendor accepts.
   */
  metadata?: { entry: string }
  /**
   * Which way the create of `input` takes. Where the vendor can carry no marker for it,
   * return `{ unmarked: reason }`: such a create is sent once and never again, and a key
   * that appears after a lost answer is named in the error, never touched.
   * Default: `'name'` where declared, else `'metadata'`.
   */
  choose?(input: C): 'name' | 'metadata' | { unmarked: string }
}

/** How one create carries its marker. */
export type MarkingWay = 'name' | 'metadata' | { unmarked: string }

/** Separates the requested name from the marker in a temporary name: `<name>~<marker>`. */
export const MARKER_SEPARATOR = '~'
const SEPARATOR = MARKER_SEPARATOR

/** The marking of a definition that declares none: names where the vendor can rename keys. */
export function defaultMarking(capabilities: Capabilities): CreateMarking {
  return capabilities.names && (capabilities.update || []).includes('name') ? { name: {} } : {}
}

/** The way the create of `input` carries its marker under `marking`. */
export function chooseWay<C extends CreateKeyInput>(
  marking: CreateMarking<C>,
  input: C,
): MarkingWay {
  const chosen =
    marking.choose?.(input) ?? (marking.name ? 'name' : marking.metadata ? 'metadata' : undefined)
  if (chosen === 'name' && marking.name) return 'name'
  if (chosen === 'metadata' && marking.metadata) return 'metadata'
  if (typeof chosen === 'object') return chosen
  return { unmarked: 'this store declares no way to mark a create' }
}

/**
 * The input to send: `input` with the marker in a temporary name or a metadata entry.
 * `finalName` is the name the key is settled to (the requested one, or a generated one).
 */
export function markInput<C extends CreateKeyInput>(
  input: C,
  marking: CreateMarking<C>,
  way: MarkingWay,
  marker: string,
  finalName: string | undefined,
  context: InputContext,
): C {
  if (way === 'name') {
    const maxLength = marking.name?.maxLength ?? MAX_NAME_LENGTH
    const room = maxLength - marker.length - SEPARATOR.length
    const base = (finalName ?? '').slice(0, Math.max(room, 0))
    return { ...input, name: `${base}${SEPARATOR}${marker}` }
  }
  if (way === 'metadata') {
    const entry = (marking.metadata as { entry: string }).entry
    if (input.metadata !== undefined && Object.hasOwn(input.metadata, entry)) {
      const problem = 'reserved for the create marker'
      throw new ValidationError({
        ...context,
        message: `${context.provider} ${context.operation}: metadata entry "${entry}" is ${problem}`,
        issues: [{ path: `metadata.${entry}`, message: problem }],
      })
    }
    return { ...input, metadata: { ...input.metadata, [entry]: marker } }
  }
  return input
}

/**
 * How one create of `input` carries `marker` under `marking`: the input to send, and the
 * update that settles the key it makes (`undefined`: nothing to settle). A create marked by
 * name is settled to the requested name, or to a `defaultKeyName` where none is asked for.
 */
export function markCreate<C extends CreateKeyInput>(
  marking: CreateMarking<C>,
  input: C,
  marker: string,
  context: InputContext,
): { way: MarkingWay; marked: C; patch: UpdateKeyInput | undefined } {
  const way = chooseWay(marking, input)
  const finalName = way === 'name' ? (input.name ?? defaultKeyName()) : input.name
  return {
    way,
    marked: markInput(input, marking, way, marker, finalName, context),
    patch: settlingPatch({ ...input, name: finalName }, markedFields(way)),
  }
}

/**
 * A name for a key created without one at a vendor that requires names: recognisable, and
 * unique enough to find the key again after an ambiguous create.
 */
export function defaultKeyName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')
  return `keyway-${stamp}-${randomBytes(3).toString('hex')}`
}

/** Whether `key` still carries `marker`, in any way `marking` allows. */
export function carriesMarker(key: ApiKey, marking: CreateMarking, marker: string): boolean {
  if (marking.name && key.name?.endsWith(`${SEPARATOR}${marker}`)) return true
  const entry = marking.metadata?.entry
  return entry !== undefined && key.metadata[entry] === marker
}

/** The fields a create marked `way` carries its marker in. */
export function markedFields(way: MarkingWay): MarkedField[] {
  return typeof way === 'object' ? [] : [way]
}

/** A field a create's marker may be carried in. */
export type MarkedField = 'name' | 'metadata'

/**
 * The update that settles a key a marked create made: each of `fields` set as `wanted` asks
 * (the name, where one is asked for; the metadata, without the marker's entry). Where the
 * key as it is now is given (`current`), a field it already has as asked is left out.
 * `undefined` where nothing is left to set.
 */
export function settlingPatch(
  wanted: Pick<CreateKeyInput, 'name' | 'metadata'>,
  fields: readonly MarkedField[],
  current?: ApiKey,
): UpdateKeyInput | undefined {
  const patch: UpdateKeyInput = {}
  if (fields.includes('name') && wanted.name !== undefined && current?.name !== wanted.name) {
    patch.name = wanted.name
  }
  const metadata = wanted.metadata ?? {}
  if (
    fields.includes('metadata') &&
    (current === undefined || !sameRecord(current.metadata, metadata))
  ) {
    patch.metadata = { ...metadata }
  }
  return Object.keys(patch).length > 0 ? patch : undefined
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}
