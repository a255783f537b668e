import * as v from 'valibot'
import type { FieldIssue, KeyStoreErrorOptions } from './errors.js'

/**
 * Field issues from valibot's, with paths and expectations only: valibot's own messages
 * quote the received value, which may be a secret.
 */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.slice(0, 20).map((issue) => ({
    path: v.getDotPath(issue) ?? '',
    message: issueMessage(issue),
  }))
}

/** Issue types whose message is keyway's own wording, never a quote of the value. */
const OWN_MESSAGES: ReadonlySet<string> = new Set(['check', 'raw_check', 'custom'])

/** Rebuilt from what was expected: valibot's own messages quote the received value. */
const EXPECTATIONS: Readonly<Record<string, string>> = {
  integer: 'expected a whole number',
  finite: 'expected a finite number',
  strict_object: 'unknown field',
  safe_integer: 'expected a safe whole number',
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  // valibot's default wording ("Invalid …: Received …") quotes the value: never pass it on.
  if (OWN_MESSAGES.has(issue.type) && !issue.message.startsWith('Invalid ')) return issue.message
  const expectation = EXPECTATIONS[issue.type]
  if (expectation !== undefined) return expectation
  return issue.expected ? `expected ${issue.expected}` : `invalid ${issue.type}`
}

/**
 * Parses `value` with `schema`; on a mismatch throws the error `fail` builds from the field
 * issues (paths and expectations, never the value).
 */
export function parseOrThrow<TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
  fail: (issues: FieldIssue[]) => Error,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, value)
  if (result.success) return result.output
  throw fail(toFieldIssues(result.issues))
}

/**
 * A check of values against valibot schemas that throws `error` on a mismatch, with the field
 * issues and the message `<provider> <operation>: <problem> (<first issues>)`; `whole` names
 * the value as a whole, for an issue at its root. The value is never quoted.
 */
export function refusingParser<Context extends { provider: string; operation: string }>(
  error: new (options: KeyStoreErrorOptions & { issues: FieldIssue[] }) => Error,
  problem: string,
  whole: string,
) {
  return <TSchema extends v.GenericSchema>(
    schema: TSchema,
    value: unknown,
    context: Context,
  ): v.InferOutput<TSchema> =>
    parseOrThrow(
      schema,
      value,
      (issues) =>
        new error({
          ...context,
          message: `${context.provider} ${context.operation}: ${problem} (${summarizeIssues(issues, whole)})`,
          issues,
        }),
    )
}

/** The first few issues as one line for an error message, e.g. `name: expected string`. */
export function summarizeIssues(issues: readonly FieldIssue[], whole: string): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path || whole}: ${issue.message}`)
    .join('; ')
}
