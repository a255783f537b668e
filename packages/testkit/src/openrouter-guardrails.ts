import { randomUUID } from 'node:crypto'
import { isoNow, isPlainObject, matchPath } from './emulator-helpers.js'
import type { EmulatedRequest, EmulatedResponse } from './http-server.js'
import { INVALID_JSON } from './http-server.js'
import { pageOf, readPage } from './openrouter-paging.js'

interface Assignment {
  id: string
  guardrailId: string
  assignedBy: string
  createdAt: string
}

/** What the assignment list shows of a key. */
export interface AssignedKeyInfo {
  name: string
  label: string
}

/**
 * OpenRouter's guardrails and their key assignments. A key holds at most one guardrail;
 * assigning replaces any existing assignment.
 */
export class OpenRouterGuardrails {
  readonly #guardrails = new Map<string, { id: string; name: string }>()
  /** By key hash. */
  readonly #assignments = new Map<string, Assignment>()
  readonly #assignedBy: string
  readonly #keyInfo: (hash: string) => AssignedKeyInfo | undefined

  constructor(assignedBy: string, keyInfo: (hash: string) => AssignedKeyInfo | undefined) {
    this.#assignedBy = assignedBy
    this.#keyInfo = keyInfo
  }

  /** Adds a guardrail, as if made in the dashboard. */
  add(input: { name?: string } = {}): { id: string } {
    const id = randomUUID()
    this.#guardrails.set(id, { id, name: input.name ?? `Guardrail ${this.#guardrails.size + 1}` })
    return { id }
  }

  has(id: string): boolean {
    return this.#guardrails.has(id)
  }

  /** The guardrail a key holds, or `null`. */
  guardrailOf(hash: string): string | null {
    return this.#assignments.get(hash)?.guardrailId ?? null
  }

  /** Assigns `guardrailId` to each known key; returns how many were assigned. */
  assign(guardrailId: string, hashes: readonly string[]): number {
    let count = 0
    for (const hash of new Set(hashes)) {
      if (this.#keyInfo(hash) === undefined) continue
      // Delete first so a replaced assignment moves to the end, like a new one.
      this.#assignments.delete(hash)
      this.#assignments.set(hash, {
        id: randomUUID(),
        guardrailId,
        assignedBy: this.#assignedBy,
        createdAt: isoNow(),
      })
      count++
    }
    return count
  }

  /** Drops a deleted key's assignment. */
  forget(hash: string): void {
    this.#assignments.delete(hash)
  }

  /**
   * Handles `/guardrails/…`: the account's key assignments, one guardrail's, and assigning
   * and unassigning keys; `undefined` when the path is not one of them.
   */
  handle(
    request: EmulatedRequest,
    path: string,
    error: (status: number, message: string) => EmulatedResponse,
  ): EmulatedResponse | undefined {
    if (path === '/guardrails/assignments/keys') {
      if (request.method !== 'GET') return error(405, 'Method Not Allowed')
      const page = readPage(request.query, error)
      if ('status' in page) return page
      return pageOf(this.#listed(), page)
    }
    const assign = matchPath('/guardrails/:id/assignments/keys', path)
    const remove = matchPath('/guardrails/:id/assignments/keys/remove', path)
    const params = assign ?? remove
    if (params === undefined) return undefined
    const guardrailId = params.id as string
    // One guardrail's assignments: in the SDK (generated from the spec), not in VENDORS.md.
    if (assign !== undefined && request.method === 'GET') {
      if (!this.#guardrails.has(guardrailId)) return error(404, 'Guardrail not found')
      const page = readPage(request.query, error)
      if ('status' in page) return page
      const listed = this.#listed().filter((item) => item.guardrail_id === guardrailId)
      return pageOf(listed, page)
    }
    if (request.method !== 'POST') return error(405, 'Method Not Allowed')
    if (!this.#guardrails.has(guardrailId)) return error(404, 'Guardrail not found')
    const hashes = readHashes(request.body)
    if (hashes === undefined) {
      return error(400, 'key_hashes: must be a non-empty array of key hashes')
    }
    if (assign !== undefined) {
      return { status: 200, body: { assigned_count: this.assign(guardrailId, hashes) } }
    }
    let unassigned = 0
    for (const hash of new Set(hashes)) {
      if (this.#assignments.get(hash)?.guardrailId !== guardrailId) continue
      this.#assignments.delete(hash)
      unassigned++
    }
    return { status: 200, body: { unassigned_count: unassigned } }
  }

  #listed() {
    return [...this.#assignments.entries()].flatMap(([hash, assignment]) => {
      const key = this.#keyInfo(hash)
      if (key === undefined) return []
      return [
        {
          id: assignment.id,
          key_hash: hash,
          key_name: key.name,
          key_label: key.label,
          guardrail_id: assignment.guardrailId,
          assigned_by: assignment.assignedBy,
          created_at: assignment.createdAt,
        },
      ]
    })
  }
}

function readHashes(body: unknown): string[] | undefined {
  if (body === INVALID_JSON || !isPlainObject(body)) return undefined
  const hashes = body.key_hashes
  if (!Array.isArray(hashes) || hashes.length === 0) return undefined
  return hashes.every((hash) => typeof hash === 'string' && hash.length > 0)
    ? (hashes as string[])
    : undefined
}
