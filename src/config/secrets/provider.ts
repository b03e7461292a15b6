/** Where the `secrets:<kind>` source of a setting comes from. */
export type ProviderKind = 'env' | 'file' | 'aws' | 'vault'

/**
 * One secrets backend. `fetch` returns the values it holds for `names` (a name it
 * lacks is simply absent) and throws `SecretsProviderError` when it cannot answer.
 */
export interface SecretsProvider {
  readonly kind: ProviderKind
  /** Where the secrets live, for messages: a directory, a secret id, a Vault path. */
  readonly location: string
  fetch(names: readonly string[]): Promise<Record<string, string>>
  close(): void
}

/** A provider failure; its message names the backend and the reason, never a secret value. */
export class SecretsProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SecretsProviderError'
  }
}

/** Keeps the requested names whose values are non-empty strings (numbers are stringified). */
export function pickSettings(
  bundle: Record<string, unknown>,
  names: readonly string[],
): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = bundle[name]
    if (typeof value === 'string' && value.trim() !== '') picked[name] = value
    else if (typeof value === 'number' || typeof value === 'boolean') picked[name] = String(value)
  }
  return picked
}

/**
 * Parses a JSON object of settings. The parser's own message is dropped: it quotes
 * the input, which is a secret.
 */
export function parseSettingsJson(text: string, what: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new SecretsProviderError(`${what} is not valid JSON (expected an object of setting names)`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new SecretsProviderError(`${what} is not a JSON object of setting names`)
  return parsed as Record<string, unknown>
}

/** The `env` provider: the environment and NAME_FILE layers already hold everything. */
export const envProvider: SecretsProvider = {
  kind: 'env',
  location: 'environment',
  fetch: async () => ({}),
  close() {},
}
