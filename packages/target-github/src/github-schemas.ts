import { errorReader } from '@keyway/core/adapter'
import * as v from 'valibot'

/** `GET …/secrets/public-key`: the key to seal secrets for, and its id. */
export const publicKeySchema = v.looseObject({
  key_id: v.string(),
  key: v.pipe(
    v.string(),
    v.base64(),
    v.check((key) => Buffer.from(key, 'base64').length === 32, 'a 32-byte key'),
  ),
})

/** `GET …/secrets/{name}`: the secret's metadata; its value is never shown. */
export const secretSchema = v.looseObject({
  name: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
})

/** GitHub's error body: `{ message, documentation_url, status? }`. */
export const readGitHubError = errorReader(
  v.looseObject({ message: v.string(), documentation_url: v.optional(v.nullable(v.string())) }),
  (body) => ({ message: body.message }),
)
