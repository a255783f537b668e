import { createHash, randomUUID } from 'node:crypto'
import { isoNow } from './emulator-helpers.js'
import type { EmulatedResponse } from './http-server.js'
import { pageOf, readPage } from './openrouter-paging.js'

interface WorkspaceRecord {
  id: string
  slug: string
  name: string
  createdAt: string
}

/** OpenRouter's workspaces: every key lives in one; the default one always exists. */
export class OpenRouterWorkspaces {
  readonly defaultId: string
  readonly #records = new Map<string, WorkspaceRecord>()
  readonly #createdBy: string

  constructor(defaultId: string, createdBy: string) {
    this.defaultId = defaultId
    this.#createdBy = createdBy
    this.#records.set(defaultId, {
      id: defaultId,
      slug: 'default',
      name: 'Default Workspace',
      createdAt: isoNow(-86_400_000),
    })
  }

  /** Adds a workspace, as if made in the dashboard. */
  add(input: { name?: string; slug?: string } = {}): WorkspaceRecord {
    const id = randomUUID()
    const name = input.name ?? `Workspace ${this.#records.size + 1}`
    const record: WorkspaceRecord = {
      id,
      name,
      slug: input.slug ?? name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      createdAt: isoNow(),
    }
    this.#records.set(id, record)
    return record
  }

  has(id: string): boolean {
    return this.#records.has(id)
  }

  /** `GET /workspaces?offset&limit`: `{data: Workspace[], total_count}`, oldest first. */
  list(
    query: URLSearchParams,
    error: (status: number, message: string) => EmulatedResponse,
  ): EmulatedResponse {
    const page = readPage(query, error)
    if ('status' in page) return page
    return pageOf(
      [...this.#records.values()].map((record) => this.#toWorkspace(record)),
      page,
    )
  }

  /**
   * A workspace as `GET /workspaces` answers it. Where OpenRouter's sources disagree, the
   * official SDK's schema (1.3.19, generated from OpenRouter's OpenAPI spec) decides over
   * VENDORS.md, which was written from prose docs and captures; each such field says so.
   */
  #toWorkspace(record: WorkspaceRecord) {
    return {
      id: record.id,
      slug: record.slug,
      name: record.name,
      description: null,
      created_at: record.createdAt,
      updated_at: null,
      created_by: this.#createdBy,
      // SDK schema (spec) and VENDORS.md agree: always a string, never null. The spec calls it
      // "derived from the workspace ID" and materialized only when first configured, so every
      // workspace has one, configured or not.
      default_guardrail_id: defaultGuardrailId(record.id),
      default_text_model: null,
      default_image_model: null,
      default_provider_sort: null,
      include_byok_in_budgets: false,
      // SDK schema (spec): integer key ids or null. VENDORS.md counts it among the fields that
      // name a key by hash; null (every key logged) is what both allow.
      io_logging_api_key_ids: null,
      io_logging_sampling_rate: 1,
      is_data_discount_logging_enabled: false,
      is_observability_broadcast_enabled: false,
      is_observability_io_logging_enabled: false,
    }
  }
}

/** Namespace of the default guardrail ids: the emulator's own, fixed so ids are stable. */
const DEFAULT_GUARDRAIL_NAMESPACE = 'a3f1c7e2-5b4d-4e8f-9c6a-2d7b8e1f0a93'

/**
 * The default guardrail's id of a workspace: a name-based (version 5) UUID of the workspace
 * id, so it is the same on every call, as OpenRouter's "deterministic ID derived from the
 * workspace ID" is. How OpenRouter derives it is not published; only the stability matters.
 */
function defaultGuardrailId(workspaceId: string): string {
  const namespace = Buffer.from(DEFAULT_GUARDRAIL_NAMESPACE.replaceAll('-', ''), 'hex')
  const bytes = createHash('sha1').update(namespace).update(workspaceId).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
