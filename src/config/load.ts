import { ConfigError, type ConfigIssue } from './issues.ts'
import { checkProduction, developmentWarnings } from './production.ts'
import type { Config, SettingName } from './schema.ts'
import { settingNames } from './settings.ts'
import { type Layers, readLayers, type Source } from './sources.ts'
import { validateSettings } from './validate.ts'

export { ConfigError, EXIT_CONFIG } from './issues.ts'
export { checkProduction } from './production.ts'
export { isSecretSetting } from './settings.ts'
export type { Source } from './sources.ts'

export interface LoadedConfig {
  config: Readonly<Config>
  sources: Readonly<Partial<Record<SettingName, Source>>>
  /** Accepted but unsafe outside development (a weak SECRET_KEY); shown at startup. */
  warnings: readonly ConfigIssue[]
}

/** The whole verdict on a set of layers: values, where each came from, every problem. */
export interface Evaluation {
  config: Config
  sources: Partial<Record<SettingName, Source>>
  issues: ConfigIssue[]
  warnings: ConfigIssue[]
}

/** Validates the layers and, in production, runs the production checks; never throws. */
export function evaluateLayers(layers: Layers): Evaluation {
  const { config, issues } = validateSettings(layers.raw)
  const sources = { ...layers.sources }
  for (const name of settingNames)
    if (!(name in sources) && config[name] !== undefined) sources[name] = 'default'
  const production = config.NODE_ENV === 'production'
  // A setting already reported as invalid is not reported twice.
  const invalid = new Set(issues.map((i) => i.setting))
  const unsafe = production ? checkProduction(config, sources).filter((i) => !invalid.has(i.setting)) : []
  return {
    config,
    sources,
    issues: [...layers.issues, ...issues, ...unsafe],
    warnings: production ? [] : developmentWarnings(config),
  }
}

/** Throws one ConfigError naming every problem, or returns the frozen configuration. */
export function settle(evaluation: Evaluation): LoadedConfig {
  if (evaluation.issues.length > 0) throw new ConfigError(evaluation.issues)
  return {
    config: Object.freeze(evaluation.config),
    sources: Object.freeze(evaluation.sources),
    warnings: Object.freeze(evaluation.warnings),
  }
}

/**
 * Builds the configuration from, later wins: defaults, `.env` (development only),
 * the environment, and `NAME_FILE`. Does not contact a secrets provider: entry points
 * use `loadConfigWithSecrets`, which adds the provider as the last source.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotEnvPath = '.env'): LoadedConfig {
  return settle(evaluateLayers(readLayers(env, dotEnvPath)))
}
