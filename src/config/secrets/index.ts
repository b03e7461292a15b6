import type { Config } from '../schema.ts'
import { providerSettingNames } from '../settings.ts'
import { createAwsProvider } from './aws-provider.ts'
import { createFileProvider } from './file-provider.ts'
import { envProvider, type SecretsProvider } from './provider.ts'
import { SecretStore, type SecretStoreOptions } from './store.ts'
import { createVaultProvider } from './vault-provider.ts'

export { type ProviderKind, type SecretsProvider, SecretsProviderError } from './provider.ts'
export { SecretStore, SecretsUnavailableError, type StoreLog } from './store.ts'

/** Test and embedding seams: a clock, a sleep, a logger, static AWS credentials. */
export interface SecretsDeps {
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  log?: SecretStoreOptions['log']
  awsCredentials?: { accessKeyId: string; secretAccessKey: string }
  awsMaxAttempts?: number
}

/** The provider SECRETS_PROVIDER names, configured from the SECRETS_* settings. */
export function createSecretsProvider(config: Config, deps: SecretsDeps = {}): SecretsProvider {
  switch (config.SECRETS_PROVIDER) {
    case 'file':
      return createFileProvider(config.SECRETS_FILE_DIR)
    case 'aws':
      return createAwsProvider({
        secretId: config.SECRETS_AWS_SECRET_ID ?? '',
        region: config.SECRETS_AWS_REGION,
        endpoint: config.SECRETS_AWS_ENDPOINT,
        timeoutMs: config.SECRETS_TIMEOUT_MS,
        credentials: deps.awsCredentials,
        ...(deps.awsMaxAttempts ? { maxAttempts: deps.awsMaxAttempts } : {}),
      })
    case 'vault':
      return createVaultProvider({
        addr: config.SECRETS_VAULT_ADDR ?? '',
        token: config.SECRETS_VAULT_TOKEN,
        roleId: config.SECRETS_VAULT_ROLE_ID,
        secretId: config.SECRETS_VAULT_SECRET_ID,
        approleMount: config.SECRETS_VAULT_APPROLE_MOUNT,
        mount: config.SECRETS_VAULT_MOUNT,
        path: config.SECRETS_VAULT_PATH,
        namespace: config.SECRETS_VAULT_NAMESPACE,
        timeoutMs: config.SECRETS_TIMEOUT_MS,
        now: deps.now,
      })
    default:
      return envProvider
  }
}

/** A store over the configured provider for every provider-resolved secret setting. */
export function createSecretStore(config: Config, deps: SecretsDeps = {}): SecretStore {
  return new SecretStore({
    provider: createSecretsProvider(config, deps),
    names: providerSettingNames,
    ttlMs: config.SECRETS_CACHE_TTL_S * 1000,
    startupAttempts: config.SECRETS_STARTUP_ATTEMPTS,
    log: deps.log,
    now: deps.now,
    sleep: deps.sleep,
  })
}
