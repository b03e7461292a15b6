import { Ajv } from 'ajv'
import { checkAuthSettings } from './auth-check.ts'
import type { ConfigIssue } from './issues.ts'
import { checkNetworkFormats } from './network.ts'
import { type Config, ConfigSchema } from './schema.ts'
import { checkProviderSettings } from './secrets/settings-check.ts'
import { isSecretSetting } from './settings.ts'

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false })
const validate = ajv.compile(ConfigSchema)

export interface Validated {
  /** The coerced values with defaults; typed as Config, meaningful only when `issues` is empty. */
  config: Config
  issues: ConfigIssue[]
}

/** Coerces and checks every raw value against the schema; one issue per bad setting. */
export function validateSettings(raw: Readonly<Record<string, string>>): Validated {
  const candidate: Record<string, unknown> = { ...raw }
  const issues: ConfigIssue[] = []
  if (!validate(candidate)) {
    for (const error of validate.errors ?? []) {
      const setting = error.instancePath.slice(1) || String(error.params.missingProperty ?? '')
      // Union members each add an error; the enum-like message names the allowed values.
      if (error.keyword === 'const') continue
      const shown = isSecretSetting(setting) || raw[setting] === undefined ? '' : ` (got "${raw[setting]}")`
      const message = error.keyword === 'anyOf' ? describeAnyOf(setting) : (error.message ?? 'is invalid')
      issues.push({ setting, code: 'invalid', detail: `${message}${shown}` })
    }
  }
  const config = candidate as Config
  if (config.AUTH_DEV === undefined) config.AUTH_DEV = config.NODE_ENV !== 'production' && !config.AUTH_ISSUER
  const invalid = new Set(issues.map((i) => i.setting))
  const crossField = [
    ...checkNetworkFormats(config),
    ...checkProviderSettings(config),
    ...checkAuthSettings(config),
  ]
  return { config, issues: dedupe([...issues, ...crossField.filter((i) => !invalid.has(i.setting))]) }
}

function describeAnyOf(setting: string): string {
  const schema = ConfigSchema.properties[setting as keyof Config] as unknown as {
    anyOf?: { const: unknown }[]
  }
  const values = (schema.anyOf ?? []).map((s) => s.const).join(', ')
  return `must be one of: ${values}`
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.setting}\n${i.code}\n${i.detail}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
