import type { SettingName } from './schema.ts'
import { settingInfo, settingNames } from './settings.ts'
import type { Source } from './sources.ts'

export interface EffectiveSetting {
  name: SettingName
  /** Printable value: secrets appear only as `[redacted]`. */
  value: string
  source: Source | 'unset'
  secret: boolean
}

export const REDACTED = '[redacted]'

/** Every setting with its value (secrets redacted) and the source that won. */
export function effectiveSettings(
  config: Readonly<Record<string, unknown>>,
  sources: Readonly<Partial<Record<SettingName, Source>>>,
): EffectiveSetting[] {
  return settingNames.map((name) => {
    const value = config[name]
    const { secret } = settingInfo(name)
    const source = sources[name] ?? 'unset'
    if (value === undefined) return { name, value: '', source: 'unset', secret }
    const shown = secret
      ? REDACTED
      : typeof value === 'string' && value !== ''
        ? value
        : JSON.stringify(value)
    return { name, value: shown, source, secret }
  })
}
