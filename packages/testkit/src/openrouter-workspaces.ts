import { randomUUID } from 'node:crypto'
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

  #toWorkspace(record: WorkspaceRecord) {
    return {
      id: record.id,
      slug: record.slug,
      name: record.name,
      description: null,
      created_at: record.createdAt,
      updated_at: null,
      created_by: this.#createdBy,
      default_guardrail_id: null,
      default_text_model: null,
      default_image_model: null,
      default_provider_sort: null,
      include_byok_in_budgets: false,
      io_logging_api_key_ids: null,
      io_logging_sampling_rate: 1,
      is_data_discount_logging_enabled: false,
      is_observability_broadcast_enabled: false,
      is_observability_io_logging_enabled: false,
    }
  }
}
