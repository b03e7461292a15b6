import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { Ajv } from 'ajv'
import { type Config, ConfigSchema, type SettingName } from './schema.ts'

export type Source = 'default' | '.env' | 'env' | 'file'

export class ConfigError extends Error {
  /** One entry per bad setting; never contains a secret value. */
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Exit code for a configuration error (EX_CONFIG from sysexits.h). */
export const EXIT_CONFIG = 78

export interface LoadedConfig {
  config: Readonly<Config>
  sources: Readonly<Partial<Record<SettingName, Source>>>
}

const settingNames = Object.keys(ConfigSchema.properties) as SettingName[]
const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false })
const validate = ajv.compile(ConfigSchema)

function isSecret(name: SettingName): boolean {
  return Boolean((ConfigSchema.properties[name] as { secret?: boolean }).secret)
}

function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {}
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>
}

/**
 * Builds the configuration from, later wins: defaults, `.env` (development only),
 * the environment, and `NAME_FILE` (the file's contents). Empty values count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotEnvPath = '.env'): LoadedConfig {
  const problems: string[] = []
  const raw: Record<string, string> = {}
  const sources: Partial<Record<SettingName, Source>> = {}
  const isProduction = env.NODE_ENV === 'production'
  const dotEnv = isProduction ? {} : readDotEnv(dotEnvPath)

  for (const name of settingNames) {
    const layers: Array<[Source, string | undefined]> = [
      ['.env', dotEnv[name]],
      ['env', env[name]],
    ]
    const filePath = env[`${name}_FILE`]
    if (filePath) {
      try {
        layers.push(['file', readFileSync(filePath, 'utf8').trim()])
      } catch (err) {
        problems.push(`${name}_FILE: cannot read ${filePath} (${(err as NodeJS.ErrnoException).code})`)
      }
    }
    for (const [source, value] of layers) {
      if (value === undefined || value.trim() === '') continue
      raw[name] = value.trim()
      sources[name] = source
    }
  }

  const candidate: Record<string, unknown> = { ...raw }
  if (!validate(candidate)) {
    for (const error of validate.errors ?? []) {
      const name = (error.instancePath.slice(1) || String(error.params.missingProperty ?? '')) as SettingName
      const shown = isSecret(name) || raw[name] === undefined ? '' : ` (got "${raw[name]}")`
      problems.push(`${name}: ${error.message}${shown}`)
    }
  }
  for (const name of settingNames)
    if (!(name in sources) && candidate[name] !== undefined) sources[name] = 'default'
  if (problems.length > 0) throw new ConfigError([...new Set(problems)])

  const config = candidate as Config
  if (config.AUTH_DEV === undefined) config.AUTH_DEV = config.NODE_ENV !== 'production' && !config.AUTH_ISSUER
  const productionProblems = config.NODE_ENV === 'production' ? checkProduction(config) : []
  if (productionProblems.length > 0) throw new ConfigError(productionProblems)
  return { config: Object.freeze(config), sources: Object.freeze(sources) }
}

/** Settings that are unsafe in production, all reported at once. */
export function checkProduction(config: Config): string[] {
  const problems: string[] = []
  if (config.AUTH_DEV) problems.push('AUTH_DEV: the development identity provider is refused in production')
  if (!config.AUTH_ISSUER) problems.push('AUTH_ISSUER: required in production')
  if (!config.AUTH_AUDIENCE) problems.push('AUTH_AUDIENCE: required in production')
  if (!config.SECRET_KEY) problems.push('SECRET_KEY: required in production')
  else if (Buffer.byteLength(config.SECRET_KEY) < 32) problems.push('SECRET_KEY: must be at least 32 bytes')
  if (!config.DATABASE_URL)
    problems.push('DATABASE_URL: required in production (the embedded database is not)')
  if (config.CORS_ORIGINS.split(',').some((o) => o.trim() === '*'))
    problems.push('CORS_ORIGINS: "*" is refused')
  return problems
}

export function isSecretSetting(name: SettingName): boolean {
  return isSecret(name)
}
