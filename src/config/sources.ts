import { existsSync, readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import type { ConfigIssue } from './issues.ts'
import type { SettingName } from './schema.ts'
import { settingNames } from './settings.ts'

/** Where a value came from; `secrets:<kind>` is the secrets provider. */
export type Source = 'default' | '.env' | 'env' | 'file' | `secrets:${string}`

export interface Layers {
  /** The winning raw (string) value of every setting that has one. */
  raw: Record<string, string>
  sources: Partial<Record<SettingName, Source>>
  issues: ConfigIssue[]
}

function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {}
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>
}

function readSettingFile(name: string, path: string, issues: ConfigIssue[]): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    issues.push({ setting: `${name}_FILE`, code: 'unreadable', detail: `cannot read ${path} (${code})` })
    return undefined
  }
}

/**
 * Collects raw values from, later wins: `.env` (development only), the environment,
 * and `NAME_FILE` (the file's contents, for Docker and Kubernetes secrets).
 * An empty value counts as unset, so it never hides an earlier layer.
 */
export function readLayers(env: NodeJS.ProcessEnv, dotEnvPath: string): Layers {
  const issues: ConfigIssue[] = []
  const raw: Record<string, string> = {}
  const sources: Layers['sources'] = {}
  const dotEnv = env.NODE_ENV === 'production' ? {} : readDotEnv(dotEnvPath)
  for (const name of settingNames) {
    const filePath = env[`${name}_FILE`]?.trim()
    const layers: Array<[Source, string | undefined]> = [
      ['.env', dotEnv[name]],
      ['env', env[name]],
      ['file', filePath ? readSettingFile(name, filePath, issues) : undefined],
    ]
    for (const [source, value] of layers) {
      if (value === undefined || value.trim() === '') continue
      raw[name] = value.trim()
      sources[name] = source
    }
  }
  return { raw, sources, issues }
}

/** Lays the secrets provider's values over the other layers (it is the last source). */
export function overlaySecrets(layers: Layers, kind: string, values: Record<string, string>): Layers {
  const raw = { ...layers.raw }
  const sources = { ...layers.sources }
  for (const [name, value] of Object.entries(values)) {
    if (value.trim() === '') continue
    raw[name] = value.trim()
    sources[name as SettingName] = `secrets:${kind}`
  }
  return { raw, sources, issues: layers.issues }
}
