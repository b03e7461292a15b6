import { withDevSecretKey } from './dev-secret.ts'
import { ConfigError, EXIT_CONFIG, type LoadedConfig, loadConfig } from './load.ts'

export { ConfigError, EXIT_CONFIG, type LoadedConfig } from './load.ts'
export type { Config } from './schema.ts'

/** Loads the configuration for an entry point; prints every problem and exits 78 when it is invalid. */
export function loadConfigOrExit(): LoadedConfig {
  try {
    const loaded = loadConfig()
    return { ...loaded, config: withDevSecretKey(loaded.config) }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(EXIT_CONFIG)
    }
    throw err
  }
}
