import { withDevSecretKey } from './dev-secret.ts'
import { ConfigError, EXIT_CONFIG, EXIT_UNAVAILABLE, formatIssue } from './issues.ts'
import { loadConfigWithSecrets, type ResolvedConfig } from './load-with-secrets.ts'
import { SecretsUnavailableError } from './secrets/index.ts'

export { ConfigError, EXIT_CONFIG, EXIT_UNAVAILABLE } from './issues.ts'
export type { LoadedConfig } from './load.ts'
export type { ResolvedConfig } from './load-with-secrets.ts'
export type { Config } from './schema.ts'
export type { SecretStore } from './secrets/index.ts'

/**
 * Loads the configuration for an entry point, secrets provider included. Prints every
 * problem (never a secret value) and exits 78 when it is invalid, or 69 when the
 * secrets provider stays unreachable; prints warnings for accepted weaknesses.
 */
export async function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  try {
    const loaded = await loadConfigWithSecrets(env)
    for (const warning of loaded.warnings) process.stderr.write(`warning: ${formatIssue(warning)}\n`)
    return { ...loaded, config: withDevSecretKey(loaded.config) }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(EXIT_CONFIG)
    }
    if (err instanceof SecretsUnavailableError) {
      process.stderr.write(`Cannot start: ${err.message}\n`)
      process.exit(EXIT_UNAVAILABLE)
    }
    throw err
  }
}
