/**
 * The exit codes, as gh has them: 0 success; 1 failure (a failed operation, or a usage
 * error such as an unknown flag or a bad value); 2 cancelled (a prompt answered no, Ctrl-C);
 * 4 authentication needed (no credential, a malformed one, or one the vendor refused);
 * and, beyond gh, 8 findings: `keyway audit` read every store and some keys have findings of
 * the `--fail-on` kinds.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  cancelled: 2,
  authentication: 4,
  findings: 8,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
