import type { ConfigIssue } from '../issues.ts'
import type { Config } from '../schema.ts'

type ProviderSettings = Pick<
  Config,
  | 'SECRETS_PROVIDER'
  | 'SECRETS_AWS_SECRET_ID'
  | 'SECRETS_VAULT_ADDR'
  | 'SECRETS_VAULT_TOKEN'
  | 'SECRETS_VAULT_ROLE_ID'
  | 'SECRETS_VAULT_SECRET_ID'
>

const missing = (setting: string, detail: string): ConfigIssue => ({ setting, code: 'missing', detail })

/** The settings each provider cannot work without, in every environment. */
export function checkProviderSettings(config: ProviderSettings): ConfigIssue[] {
  if (config.SECRETS_PROVIDER === 'aws' && !config.SECRETS_AWS_SECRET_ID)
    return [missing('SECRETS_AWS_SECRET_ID', 'required with SECRETS_PROVIDER=aws')]
  if (config.SECRETS_PROVIDER !== 'vault') return []
  const issues: ConfigIssue[] = []
  if (!config.SECRETS_VAULT_ADDR)
    issues.push(missing('SECRETS_VAULT_ADDR', 'required with SECRETS_PROVIDER=vault'))
  const roleId = Boolean(config.SECRETS_VAULT_ROLE_ID)
  const secretId = Boolean(config.SECRETS_VAULT_SECRET_ID)
  if (roleId !== secretId)
    issues.push(
      missing(
        roleId ? 'SECRETS_VAULT_SECRET_ID' : 'SECRETS_VAULT_ROLE_ID',
        'AppRole auth needs both SECRETS_VAULT_ROLE_ID and SECRETS_VAULT_SECRET_ID',
      ),
    )
  else if (!roleId && !config.SECRETS_VAULT_TOKEN)
    issues.push(
      missing(
        'SECRETS_VAULT_TOKEN',
        'set SECRETS_VAULT_TOKEN, or SECRETS_VAULT_ROLE_ID and SECRETS_VAULT_SECRET_ID (AppRole)',
      ),
    )
  return issues
}
