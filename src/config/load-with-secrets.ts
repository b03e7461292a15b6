import { type Evaluation, evaluateLayers, type LoadedConfig, settle } from './load.ts'
import type { SettingName } from './schema.ts'
import { createSecretStore, type SecretStore, type SecretsDeps } from './secrets/index.ts'
import { providerSettingNames } from './settings.ts'
import { overlaySecrets, readLayers } from './sources.ts'

export interface ResolvedConfig extends LoadedConfig {
  /** Live secret values (rotation); close it when done. */
  secrets: SecretStore
}

/**
 * Evaluates every source including the secrets provider. Problems in the provider's
 * own settings (SECRETS_*) are reported without contacting it; a provider that stays
 * unreachable after SECRETS_STARTUP_ATTEMPTS throws SecretsUnavailableError.
 */
export async function evaluateWithSecrets(
  env: NodeJS.ProcessEnv,
  dotEnvPath: string,
  deps: SecretsDeps = {},
): Promise<Evaluation & { secrets?: SecretStore }> {
  const layers = readLayers(env, dotEnvPath)
  // Judged before the provider is contacted: an invalid or (in production) plain-http
  // provider setting must not send credentials anywhere.
  const before = evaluateLayers(layers)
  if (before.issues.some((i) => i.setting.startsWith('SECRETS_'))) {
    // Settings the provider would have supplied are not reported as missing.
    const issues = before.issues.filter((i) => !providerSettingNames.includes(i.setting as SettingName))
    return { ...before, issues }
  }
  const secrets = createSecretStore(before.config, deps)
  try {
    await secrets.load()
  } catch (err) {
    secrets.close()
    throw err
  }
  const evaluation = evaluateLayers(overlaySecrets(layers, secrets.kind, secrets.snapshot()))
  return { ...evaluation, secrets }
}

/** The configuration from every source; throws ConfigError or SecretsUnavailableError. */
export async function loadConfigWithSecrets(
  env: NodeJS.ProcessEnv = process.env,
  dotEnvPath = '.env',
  deps: SecretsDeps = {},
): Promise<ResolvedConfig> {
  const { secrets, ...evaluation } = await evaluateWithSecrets(env, dotEnvPath, deps)
  try {
    const loaded = settle(evaluation)
    if (!secrets) throw new Error('unreachable: a valid configuration always has a secrets store')
    return { ...loaded, secrets }
  } catch (err) {
    secrets?.close()
    throw err
  }
}
