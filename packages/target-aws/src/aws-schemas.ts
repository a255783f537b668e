import { errorReader, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** `DescribeSecret`: the secret's versions and their staging labels; never a value. */
export const describeSecretSchema = v.looseObject({
  ARN: v.string(),
  Name: v.string(),
  VersionIdsToStages: v.optional(v.record(v.string(), v.array(v.string())), {}),
})

/** `GetSecretValue`: one version's value and labels. */
export const secretValueSchema = v.looseObject({
  ARN: v.string(),
  VersionId: v.string(),
  SecretString: v.optional(v.string()),
  VersionStages: v.optional(v.array(v.string()), []),
})

/** `PutSecretValue`: the version made (or found again, for the same token). */
export const putSecretValueSchema = v.looseObject({
  ARN: v.string(),
  VersionId: v.string(),
  VersionStages: v.optional(v.array(v.string()), []),
})

/**
 * AWS's JSON error body: `{ __type, message }` (some services spell it `Message`; `__type`
 * may carry a namespace before `#`).
 */
export const readAwsError = errorReader(
  v.looseObject({
    __type: lenient(v.string()),
    message: lenient(v.string()),
    Message: lenient(v.string()),
  }),
  (body) => ({
    code: body.__type?.split('#').at(-1),
    message: body.message ?? body.Message,
  }),
)
