import type { ClientConfig } from 'pg'
import { parseIntoClientConfig } from 'pg-connection-string'
import type { Config } from './schema.ts'

type SslSetting = Config['DATABASE_SSL']

/** `sslmode` values under which node-postgres encrypts; `prefer`/`allow` may fall back to plain text. */
const ENCRYPTED_SSLMODES = new Set(['require', 'verify-ca', 'verify-full', 'no-verify'])

function parse(url: string): URL | undefined {
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}

/** True when a connection with this URL and DATABASE_SSL is encrypted. */
export function usesTls(url: string, ssl: SslSetting): boolean {
  if (ssl === 'require' || ssl === 'verify-full') return true
  const params = parse(url)?.searchParams
  if (!params) return false
  const sslmode = params.get('sslmode')
  if (sslmode !== null) return ENCRYPTED_SSLMODES.has(sslmode)
  return params.get('ssl') === 'true' || params.get('ssl') === '1'
}

/**
 * The connection string node-postgres gets. DATABASE_SSL overrides the URL's
 * `sslmode`: `require` maps to node-postgres's `no-verify` (libpq's meaning of
 * require: encrypted, certificate unchecked), `verify-full` checks certificate and host.
 */
export function postgresConnectionString(url: string, ssl: SslSetting): string {
  if (ssl !== 'require' && ssl !== 'verify-full') return url
  const parsed = parse(url)
  if (!parsed) return url
  parsed.searchParams.delete('ssl')
  parsed.searchParams.set('sslmode', ssl === 'require' ? 'no-verify' : 'verify-full')
  return parsed.toString()
}

/** The URL's password (decoded), or undefined. */
export function passwordOf(url: string): string | undefined {
  const password = parse(url)?.password
  return password ? decodeURIComponent(password) : undefined
}

/**
 * What node-postgres gets for DATABASE_URL. With a password function (rotation), the
 * URL is passed as its parts: node-postgres lets a connection string's password, even
 * an absent one, win over a password function given beside it (brianc/node-postgres#3327).
 */
export function postgresConnection(
  url: string,
  ssl: SslSetting,
  password?: () => Promise<string>,
): ClientConfig {
  const connectionString = postgresConnectionString(url, ssl)
  if (!password) return { connectionString }
  return { ...parseIntoClientConfig(connectionString), password }
}
