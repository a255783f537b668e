import { errorReader } from '@keyway/core/adapter'
import * as v from 'valibot'

/** One environment variable as Vercel shows it (a sensitive value shows as empty). */
export const envVarSchema = v.looseObject({
  id: v.string(),
  key: v.string(),
  target: v.optional(v.union([v.array(v.string()), v.string()])),
  updatedAt: v.optional(v.number()),
})

/** `GET /v10/projects/{idOrName}/env`: the project's variables (keyway reads no value). */
export const envListSchema = v.looseObject({ envs: v.array(envVarSchema) })

/** `POST /v10/projects/{idOrName}/env`: what was made or replaced, and what failed. */
export const upsertResponseSchema = v.looseObject({
  created: v.union([envVarSchema, v.array(envVarSchema)]),
  failed: v.optional(
    v.array(
      v.looseObject({
        error: v.looseObject({ code: v.optional(v.string()), message: v.optional(v.string()) }),
      }),
    ),
  ),
})

/** `GET /v9/projects/{idOrName}`. */
export const projectSchema = v.looseObject({ id: v.string(), name: v.string() })

/** `GET /v6/deployments`. */
export const deploymentListSchema = v.looseObject({
  deployments: v.array(
    v.looseObject({
      uid: v.string(),
      readyState: v.optional(v.string()),
      state: v.optional(v.string()),
    }),
  ),
})

/** `POST /v13/deployments` and `GET /v13/deployments/{id}`. */
export const deploymentSchema = v.looseObject({
  id: v.string(),
  readyState: v.string(),
})

/** Vercel's error body: `{ error: { code, message } }`. */
export const readVercelError = errorReader(
  v.looseObject({
    error: v.looseObject({ code: v.optional(v.string()), message: v.optional(v.string()) }),
  }),
  (body) => ({ message: body.error.message, code: body.error.code }),
)
