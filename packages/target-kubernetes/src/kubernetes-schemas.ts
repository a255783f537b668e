import { errorReader, lenient } from '@keyway/core/adapter'
import * as v from 'valibot'

/** A Secret: its `data` (base64 values) and resource version. */
export const secretSchema = v.looseObject({
  metadata: v.looseObject({ resourceVersion: v.optional(v.string()) }),
  data: v.optional(v.nullable(v.record(v.string(), v.string()))),
})

/** What `kubectl rollout status` reads of a Deployment. */
export const deploymentSchema = v.looseObject({
  metadata: v.looseObject({
    generation: v.optional(v.number(), 0),
    resourceVersion: v.optional(v.string()),
  }),
  spec: v.looseObject({
    replicas: v.optional(v.number()),
    template: v.looseObject({
      metadata: v.optional(
        v.looseObject({ annotations: v.optional(v.nullable(v.record(v.string(), v.string()))) }),
      ),
    }),
  }),
  status: v.optional(
    v.looseObject({
      observedGeneration: v.optional(v.number(), 0),
      replicas: v.optional(v.number(), 0),
      updatedReplicas: v.optional(v.number(), 0),
      availableReplicas: v.optional(v.number(), 0),
      conditions: v.optional(
        v.nullable(v.array(v.looseObject({ type: v.string(), reason: v.optional(v.string()) }))),
      ),
    }),
  ),
})

export type Deployment = v.InferOutput<typeof deploymentSchema>

/** A `SelfSubjectAccessReview`'s answer. */
export const accessReviewSchema = v.looseObject({
  status: v.looseObject({ allowed: v.boolean() }),
})

/** Kubernetes' error body: a `Status` object. */
export const readKubernetesError = errorReader(
  v.looseObject({ message: lenient(v.string()), reason: lenient(v.string()) }),
  (body) => ({ message: body.message, code: body.reason }),
)
