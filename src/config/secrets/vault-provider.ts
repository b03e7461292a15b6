import { parseSettingsJson, pickSettings, type SecretsProvider, SecretsProviderError } from './provider.ts'

export interface VaultProviderOptions {
  addr: string
  token?: string | undefined
  roleId?: string | undefined
  secretId?: string | undefined
  approleMount: string
  mount: string
  path: string
  namespace?: string | undefined
  timeoutMs: number
  now?: () => number
}

interface VaultReply {
  status: number
  body: Record<string, unknown>
}

/** Vault's error bodies are `{"errors": [...]}`; those messages never carry secret values. */
function vaultErrors(reply: VaultReply): string {
  const errors = reply.body.errors
  return Array.isArray(errors) && errors.length > 0 ? errors.join('; ') : 'no detail'
}

/**
 * HashiCorp Vault, KV version 2, over its HTTP API: token auth, or AppRole login
 * (`auth/<approle>/login`), whose token is renewed by logging in again before its
 * lease ends or after a 403.
 */
export function createVaultProvider(options: VaultProviderOptions): SecretsProvider {
  const base = options.addr.replace(/\/+$/, '')
  const now = options.now ?? Date.now
  const secretPath = `${options.mount}/data/${options.path}`
  const appRole = Boolean(options.roleId && options.secretId)
  let token = options.token
  let tokenExpiresAt = Number.POSITIVE_INFINITY

  async function call(method: string, path: string, body?: unknown, auth?: string): Promise<VaultReply> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (auth) headers['x-vault-token'] = auth
    if (options.namespace) headers['x-vault-namespace'] = options.namespace
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(`${base}/v1/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      })
    } catch (err) {
      const reason =
        (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : String(err)
      throw new SecretsProviderError(`Vault ${base}: ${method} ${path} failed (${reason})`, { cause: err })
    }
    const text = await res.text()
    if (text === '') return { status: res.status, body: {} }
    return { status: res.status, body: parseSettingsJson(text, `Vault reply to ${method} ${path}`) }
  }

  async function login(): Promise<string> {
    const path = `auth/${options.approleMount}/login`
    const reply = await call('POST', path, { role_id: options.roleId, secret_id: options.secretId })
    const auth = reply.body.auth as { client_token?: string; lease_duration?: number } | null | undefined
    if (reply.status !== 200 || !auth?.client_token)
      throw new SecretsProviderError(`Vault AppRole login refused (${reply.status}: ${vaultErrors(reply)})`)
    const lease = auth.lease_duration ?? 0
    // Log in again at 80% of the lease, so a token never expires between two reads.
    tokenExpiresAt = lease > 0 ? now() + lease * 800 : Number.POSITIVE_INFINITY
    token = auth.client_token
    return token
  }

  async function currentToken(): Promise<string> {
    if (appRole && (!token || now() >= tokenExpiresAt)) return login()
    return token ?? ''
  }

  async function read(): Promise<VaultReply> {
    const reply = await call('GET', secretPath, undefined, await currentToken())
    if (reply.status !== 403 || !appRole) return reply
    token = undefined
    return call('GET', secretPath, undefined, await login())
  }

  return {
    kind: 'vault',
    location: `${base}/v1/${secretPath}`,
    async fetch(names) {
      const reply = await read()
      if (reply.status !== 200)
        throw new SecretsProviderError(
          `Vault read of ${secretPath} failed (${reply.status}: ${vaultErrors(reply)})`,
        )
      const data = (reply.body.data as { data?: unknown } | undefined)?.data
      if (data === null || typeof data !== 'object')
        throw new SecretsProviderError(`Vault ${secretPath} has no KV v2 data (is the mount KV version 2?)`)
      return pickSettings(data as Record<string, unknown>, names)
    },
    close() {},
  }
}
