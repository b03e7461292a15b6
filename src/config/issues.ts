/**
 * The closed catalogue of configuration problems. Each issue names its setting and a
 * stable code (`SECRET_KEY: placeholder`) that operators and tests can match on.
 * `detail` explains the fix and never contains a secret value.
 */
export type IssueCode =
  | 'invalid'
  | 'unreadable'
  | 'missing'
  | 'too_short'
  | 'placeholder'
  | 'low_entropy'
  | 'refused'
  | 'tls_required'
  | 'wildcard'
  | 'not_explicit'
  | 'verbose'

export interface ConfigIssue {
  setting: string
  code: IssueCode
  detail: string
}

export const formatIssue = (issue: ConfigIssue) => `${issue.setting}: ${issue.code} — ${issue.detail}`

/** Exit code for a configuration error (EX_CONFIG from sysexits.h). */
export const EXIT_CONFIG = 78
/** Exit code when the secrets provider cannot be reached at startup (EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69

export class ConfigError extends Error {
  /** One line per problem, e.g. `SECRET_KEY: too_short — …`; never contains a secret value. */
  readonly problems: string[]

  constructor(readonly issues: ConfigIssue[]) {
    const problems = issues.map(formatIssue)
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}
