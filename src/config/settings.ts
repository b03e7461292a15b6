import { ConfigSchema, type SettingName } from './schema.ts'

/** What the schema says about one setting, in the shape docs and `config check` need. */
export interface SettingInfo {
  name: SettingName
  secret: boolean
  required: boolean
  default: unknown
  description: string
  schema: Record<string, unknown>
}

export const settingNames = Object.keys(ConfigSchema.properties) as SettingName[]
const required = new Set<string>(ConfigSchema.required ?? [])

export function settingInfo(name: SettingName): SettingInfo {
  const schema = ConfigSchema.properties[name] as unknown as Record<string, unknown>
  return {
    name,
    secret: schema.secret === true,
    required: required.has(name),
    default: schema.default,
    description: String(schema.description ?? ''),
    schema,
  }
}

export function isSecretSetting(name: string): boolean {
  return (settingNames as string[]).includes(name) && settingInfo(name as SettingName).secret
}

/** Every secret setting: redacted in `config check` and in logs. */
export const secretSettingNames: readonly SettingName[] = settingNames.filter(
  (name) => settingInfo(name).secret,
)

/**
 * Secret settings the secrets provider may supply. The provider's own settings
 * (SECRETS_*) are excluded: they are needed to reach it in the first place.
 */
export const providerSettingNames: readonly SettingName[] = secretSettingNames.filter(
  (name) => !name.startsWith('SECRETS_'),
)

/** A human-readable type: `integer 0–65535`, `one of: a, b`, `string matching ^x`. */
export function describeType(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.anyOf))
    return `one of: ${(schema.anyOf as Array<{ const: unknown }>).map((s) => `\`${s.const}\``).join(', ')}`
  if (schema.type === 'integer' || schema.type === 'number') {
    const range = schema.minimum !== undefined && schema.maximum !== undefined
    return range ? `${schema.type} ${schema.minimum}–${schema.maximum}` : String(schema.type)
  }
  if (schema.type === 'string' && typeof schema.pattern === 'string')
    return `string matching \`${schema.pattern}\``
  return String(schema.type)
}
