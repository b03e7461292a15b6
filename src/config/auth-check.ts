import { parseAlgorithms } from '../platform/auth/algorithms.ts'
import type { ConfigIssue } from './issues.ts'
import type { Config } from './schema.ts'

/**
 * Authentication settings that can only be judged together, checked with the rest of
 * the configuration so that a mistake is one named line at startup (exit 78) and in
 * `config check`, not a stack trace when the verifier is built.
 */
export function checkAuthSettings(
  config: Pick<Config, 'AUTH_ALGORITHMS' | 'AUTH_DEV' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE' | 'NODE_ENV'>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  try {
    parseAlgorithms(config.AUTH_ALGORITHMS)
  } catch (err) {
    const detail = (err as Error).message.replace(/^AUTH_ALGORITHMS: /, '')
    issues.push({
      setting: 'AUTH_ALGORITHMS',
      code: 'invalid',
      detail: `${detail} (got "${config.AUTH_ALGORITHMS}")`,
    })
  }
  // Production reports these itself (production.ts), with its own wording.
  if (!config.AUTH_DEV && config.NODE_ENV !== 'production')
    for (const setting of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const)
      if (!config[setting])
        issues.push({
          setting,
          code: 'missing',
          detail: "required when AUTH_DEV is off (your identity provider's)",
        })
  return issues
}
