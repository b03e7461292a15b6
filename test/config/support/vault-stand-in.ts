import { randomUUID } from 'node:crypto'
import type { Config } from '../../../src/config/schema.ts'
import { listen, sendJson } from './http.ts'

export interface VaultStandInOptions {
  mount?: string
  path?: string
  rootToken?: string
  roleId?: string
  secretId?: string
  /** lease_duration of AppRole tokens, in seconds. */
  leaseSeconds?: number
}

/**
 * Speaks the parts of Vault's HTTP API Inkwell uses, with Vault's paths and JSON
 * shapes: KV v2 reads (`GET /v1/<mount>/data/<path>`) and AppRole login
 * (`POST /v1/auth/approle/login`); 403 `{"errors":["permission denied"]}` on a bad
 * token, 503 "Vault is sealed" while sealed.
 */
export async function startVaultStandIn(options: VaultStandInOptions = {}) {
  const mount = options.mount ?? 'secret'
  const path = options.path ?? 'inkwell'
  const rootToken = options.rootToken ?? 'hvs.root-token'
  const issued = new Set<string>()
  let data: Record<string, unknown> | undefined
  let version = 0
  const log = { reads: 0, logins: 0, tokensSeen: [] as string[] }
  const control = { sealed: false }

  const server = await listen((req, body, res) => {
    const url = req.url ?? ''
    const isRead = req.method === 'GET' && url === `/v1/${mount}/data/${path}`
    if (isRead) log.reads++
    if (control.sealed) return sendJson(res, 503, { errors: ['Vault is sealed'] })
    if (req.method === 'POST' && url === '/v1/auth/approle/login') {
      log.logins++
      const { role_id, secret_id } = JSON.parse(body || '{}') as { role_id?: string; secret_id?: string }
      if (!options.roleId || role_id !== options.roleId || secret_id !== options.secretId)
        return sendJson(res, 400, { errors: ['invalid role or secret ID'] })
      const token = `hvs.${randomUUID()}`
      issued.add(token)
      return sendJson(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: null,
        wrap_info: null,
        warnings: null,
        auth: {
          client_token: token,
          accessor: randomUUID(),
          policies: ['default', 'inkwell'],
          token_policies: ['default', 'inkwell'],
          metadata: { role_name: 'inkwell' },
          lease_duration: options.leaseSeconds ?? 3600,
          renewable: true,
          entity_id: randomUUID(),
          token_type: 'service',
          orphan: true,
        },
      })
    }
    if (isRead) {
      const token = String(req.headers['x-vault-token'] ?? '')
      log.tokensSeen.push(token)
      if (token !== rootToken && !issued.has(token))
        return sendJson(res, 403, { errors: ['permission denied'] })
      if (!data) return sendJson(res, 404, { errors: [] })
      return sendJson(res, 200, {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data,
          metadata: {
            created_time: new Date().toISOString(),
            custom_metadata: null,
            deletion_time: '',
            destroyed: false,
            version,
          },
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      })
    }
    sendJson(res, 404, { errors: [] })
  })

  return {
    url: server.url,
    rootToken,
    log,
    control,
    /** The SECRETS_* settings of a provider reading this stand-in with its root token. */
    settings(overrides: Partial<Config> = {}): Config {
      return {
        SECRETS_PROVIDER: 'vault',
        SECRETS_VAULT_ADDR: server.url,
        SECRETS_VAULT_TOKEN: rootToken,
        SECRETS_VAULT_APPROLE_MOUNT: 'approle',
        SECRETS_VAULT_MOUNT: mount,
        SECRETS_VAULT_PATH: path,
        SECRETS_CACHE_TTL_S: 60,
        SECRETS_STARTUP_ATTEMPTS: 3,
        SECRETS_TIMEOUT_MS: 2000,
        ...overrides,
      } as Config
    },
    /** Writes a new version of the secret (what `vault kv put` does). */
    put(values: Record<string, unknown>) {
      data = { ...values }
      version++
    },
    /** Revokes every AppRole token (what `vault token revoke` or expiry does). */
    revokeIssuedTokens() {
      issued.clear()
    },
    /** Drops every connection, like a host that is down. */
    setDown(down: boolean) {
      server.state.down = down
    },
    close: server.close,
  }
}
