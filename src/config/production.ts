import { usesTls } from './database-url.ts'
import type { ConfigIssue, IssueCode } from './issues.ts'
import { listSetting } from './network.ts'
import type { Config, SettingName } from './schema.ts'
import { checkSecretKey } from './secret-key.ts'
import type { Source } from './sources.ts'

type Sources = Readonly<Partial<Record<SettingName, Source>>>

const TLS_RULE =
  'must be encrypted: `sslmode=verify-full` (or `require`, `verify-ca`, `no-verify`, `ssl=true`) in the URL, or DATABASE_SSL=`require`/`verify-full`; DATABASE_SSL=`disable` waives it.'

/** Every production refusal, for the generated docs; the checks below emit exactly these. */
export const PRODUCTION_RULES: ReadonlyArray<{ setting: string; code: IssueCode; rule: string }> = [
  { setting: 'SECRET_KEY', code: 'missing', rule: 'must be set.' },
  { setting: 'SECRET_KEY', code: 'too_short', rule: 'at least 32 bytes.' },
  {
    setting: 'SECRET_KEY',
    code: 'placeholder',
    rule: 'not a known example value (`changeme`, `secret`, `django-insecure-…`, the example in the table below, …).',
  },
  {
    setting: 'SECRET_KEY',
    code: 'low_entropy',
    rule: 'not guessable: no repeated pattern, at least 8 distinct characters, Shannon estimate of at least 3 bits per character and 96 bits in all, not mostly runs of consecutive characters, and still 96 bits once common words (`secret`, `development`, `key`, …) and keyboard runs (`qwerty`, `12345`) are taken out.',
  },
  { setting: 'AUTH_DEV', code: 'refused', rule: 'the development identity provider must be off.' },
  { setting: 'AUTH_ISSUER', code: 'missing', rule: 'must be set.' },
  { setting: 'AUTH_AUDIENCE', code: 'missing', rule: 'must be set.' },
  { setting: 'DATABASE_URL', code: 'missing', rule: 'must be set, unless ALLOW_EMBEDDED_DB=true.' },
  { setting: 'DATABASE_URL', code: 'tls_required', rule: TLS_RULE },
  { setting: 'DATABASE_DIRECT_URL', code: 'tls_required', rule: TLS_RULE },
  { setting: 'CORS_ORIGINS', code: 'wildcard', rule: 'never `*`.' },
  { setting: 'CORS_ORIGINS', code: 'not_explicit', rule: 'must be set: the allowed origins, or `none`.' },
  { setting: 'TRUST_PROXY', code: 'not_explicit', rule: "must be set: the proxies' CIDRs, or `none`." },
  { setting: 'LOG_LEVEL', code: 'verbose', rule: 'not `debug` or `trace`.' },
  { setting: 'SECRETS_VAULT_ADDR', code: 'tls_required', rule: '`https://`, unless Vault is on localhost.' },
  {
    setting: 'SECRETS_AWS_ENDPOINT',
    code: 'tls_required',
    rule: '`https://`, unless the endpoint is on localhost.',
  },
]

const isExplicit = (sources: Sources, name: SettingName) => (sources[name] ?? 'default') !== 'default'

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.')
}

function checkDatabase(config: Config): ConfigIssue[] {
  if (!config.DATABASE_URL) {
    if (config.ALLOW_EMBEDDED_DB) return []
    const detail = 'required in production; the embedded database needs ALLOW_EMBEDDED_DB=true'
    return [{ setting: 'DATABASE_URL', code: 'missing', detail }]
  }
  if (config.DATABASE_SSL === 'disable') return []
  const detail =
    'the connection is not encrypted: add sslmode=verify-full (or require) to the URL, set DATABASE_SSL, or DATABASE_SSL=disable to accept plain text'
  const urls: Array<[string, string]> = [['DATABASE_URL', config.DATABASE_URL]]
  if (config.DATABASE_DIRECT_URL) urls.push(['DATABASE_DIRECT_URL', config.DATABASE_DIRECT_URL])
  return urls
    .filter(([, url]) => !usesTls(url, config.DATABASE_SSL))
    .map(([setting]) => ({ setting, code: 'tls_required' as const, detail }))
}

function checkAuth(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  if (config.AUTH_DEV)
    issues.push({
      setting: 'AUTH_DEV',
      code: 'refused',
      detail: 'the development identity provider is refused in production',
    })
  for (const setting of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const)
    if (!config[setting])
      issues.push({ setting, code: 'missing', detail: "required in production (your identity provider's)" })
  return issues
}

function checkHttp(config: Config, sources: Sources): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  if (listSetting(config.CORS_ORIGINS).includes('*'))
    issues.push({ setting: 'CORS_ORIGINS', code: 'wildcard', detail: '"*" is refused; list the origins' })
  else if (!isExplicit(sources, 'CORS_ORIGINS'))
    issues.push({
      setting: 'CORS_ORIGINS',
      code: 'not_explicit',
      detail: 'set the allowed browser origins, or none',
    })
  if (!isExplicit(sources, 'TRUST_PROXY'))
    issues.push({
      setting: 'TRUST_PROXY',
      code: 'not_explicit',
      detail: 'set the CIDRs of your load balancers, or none',
    })
  if (config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace')
    issues.push({
      setting: 'LOG_LEVEL',
      code: 'verbose',
      detail: `"${config.LOG_LEVEL}" logs request details; use info or quieter`,
    })
  return issues
}

/** Secrets providers reached over plain HTTP leak their credentials, except on the same host. */
function checkProviderTransport(config: Config): ConfigIssue[] {
  const endpoints = [
    ['SECRETS_VAULT_ADDR', config.SECRETS_PROVIDER === 'vault' ? config.SECRETS_VAULT_ADDR : undefined],
    ['SECRETS_AWS_ENDPOINT', config.SECRETS_PROVIDER === 'aws' ? config.SECRETS_AWS_ENDPOINT : undefined],
  ] as const
  return endpoints
    .filter(([, url]) => url?.startsWith('http://') && !isLoopbackUrl(url))
    .map(([setting]) => ({
      setting,
      code: 'tls_required' as const,
      detail: 'use https:// (plain http only to localhost)',
    }))
}

/** Settings unsafe in production (`NODE_ENV=production`), all reported at once. */
export function checkProduction(config: Config, sources: Sources = {}): ConfigIssue[] {
  return [
    ...checkSecretKey(config.SECRET_KEY),
    ...checkAuth(config),
    ...checkDatabase(config),
    ...checkHttp(config, sources),
    ...checkProviderTransport(config),
  ]
}

/** Outside production a weak SECRET_KEY is accepted, with a warning (a generated key is never weak). */
export function developmentWarnings(config: Config): ConfigIssue[] {
  return config.SECRET_KEY ? checkSecretKey(config.SECRET_KEY) : []
}
