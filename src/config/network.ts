import { isIP } from 'node:net'
import type { ConfigIssue } from './issues.ts'
import type { Config } from './schema.ts'

/** proxy-addr's named ranges, accepted by Fastify's trustProxy. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** A comma-separated setting as a list; the single word `none` is the explicit empty list. */
export function listSetting(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  return items.length === 1 && items[0] === 'none' ? [] : items
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true
  const [address = '', prefix, extra] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return false
  if (prefix === undefined) return true
  const bits = Number(prefix)
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128)
}

function isOrigin(entry: string): boolean {
  if (entry === '*') return true
  try {
    const url = new URL(entry)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry
  } catch {
    return false
  }
}

/** TRUST_PROXY and CORS_ORIGINS must parse in every environment, not only production. */
export function checkNetworkFormats(config: Pick<Config, 'TRUST_PROXY' | 'CORS_ORIGINS'>): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const proxies = listSetting(config.TRUST_PROXY)
  const badProxy = proxies.find((p) => !isAddressOrRange(p))
  if (badProxy !== undefined)
    issues.push({
      setting: 'TRUST_PROXY',
      code: 'invalid',
      detail: `"${badProxy}" is not an IP address or CIDR range (use e.g. 10.0.0.0/8, or none)`,
    })
  const badOrigin = listSetting(config.CORS_ORIGINS).find((o) => !isOrigin(o))
  if (badOrigin !== undefined)
    issues.push({
      setting: 'CORS_ORIGINS',
      code: 'invalid',
      detail: `"${badOrigin}" is not an origin like https://app.example.com (no path, no trailing slash), or none`,
    })
  return issues
}

/** Fastify's `trustProxy`: the trusted proxy list, or false to trust no forwarded header. */
export function trustedProxies(config: Pick<Config, 'TRUST_PROXY'>): string[] | false {
  const list = listSetting(config.TRUST_PROXY)
  return list.length > 0 ? list : false
}
