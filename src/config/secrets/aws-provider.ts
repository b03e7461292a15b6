import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { parseSettingsJson, pickSettings, type SecretsProvider, SecretsProviderError } from './provider.ts'

export interface AwsProviderOptions {
  secretId: string
  /** Unset: the SDK's default (AWS_REGION). */
  region?: string | undefined
  /** A VPC endpoint or a local stand-in. */
  endpoint?: string | undefined
  timeoutMs: number
  /** Unset: the SDK's default chain (env, web identity/IRSA, ECS, instance profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined
  /** SDK attempts per fetch (throttling, 5xx); the store adds its own startup retries on top. */
  maxAttempts?: number
}

/** AWS Secrets Manager: one secret whose SecretString is a JSON object keyed by setting name. */
export function createAwsProvider(options: AwsProviderOptions): SecretsProvider {
  const client = new SecretsManagerClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: { connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs },
  })
  const what = `AWS secret ${options.secretId}`
  return {
    kind: 'aws',
    location: options.secretId,
    async fetch(names) {
      let secretString: string | undefined
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: options.secretId }))
        secretString = out.SecretString
      } catch (err) {
        const e = err as Error
        throw new SecretsProviderError(`${what}: GetSecretValue failed (${e.name}: ${e.message})`, {
          cause: err,
        })
      }
      if (secretString === undefined)
        throw new SecretsProviderError(`${what} has no SecretString (binary secrets are not supported)`)
      return pickSettings(parseSettingsJson(secretString, what), names)
    },
    close() {
      client.destroy()
    },
  }
}
