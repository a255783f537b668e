import * as v from 'valibot'
import type { FieldIssue } from './errors.js'

/**
 * Field issues from valibot's, with paths and expectations only: valibot's own messages
 * quote the received value, which may be a secret.
 */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] {
  return issues.slice(0, 20).map((issue) => ({
    path: v.getDotPath(issue) ?? '',
    // A check's message is keyway's own wording; others are rebuilt from what was expected.
    message:
      issue.type === 'check'
        ? issue.message
        : issue.expected
          ? `expected ${issue.expected}`
          : `invalid ${issue.type}`,
  }))
}

/** The first few issues as one line for an error message, e.g. `name: expected string`. */
export function summarizeIssues(issues: readonly FieldIssue[], whole: string): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path || whole}: ${issue.message}`)
    .join('; ')
}
