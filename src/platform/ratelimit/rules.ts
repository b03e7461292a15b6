import type { LimitRule } from './limiter.ts'

export const limitClasses = ['ip', 'read', 'write', 'expensive'] as const
export type LimitClass = (typeof limitClasses)[number]

export interface RateLimitSettings {
  RATE_LIMIT_ENABLED: boolean
  RATE_LIMIT_IP_MAX: number
  RATE_LIMIT_IP_WINDOW_S: number
  RATE_LIMIT_READ_MAX: number
  RATE_LIMIT_READ_WINDOW_S: number
  RATE_LIMIT_WRITE_MAX: number
  RATE_LIMIT_WRITE_WINDOW_S: number
  RATE_LIMIT_EXPENSIVE_MAX: number
  RATE_LIMIT_EXPENSIVE_WINDOW_S: number
}

export function rulesFrom(s: RateLimitSettings): Record<LimitClass, LimitRule> {
  return {
    ip: { max: s.RATE_LIMIT_IP_MAX, windowS: s.RATE_LIMIT_IP_WINDOW_S },
    read: { max: s.RATE_LIMIT_READ_MAX, windowS: s.RATE_LIMIT_READ_WINDOW_S },
    write: { max: s.RATE_LIMIT_WRITE_MAX, windowS: s.RATE_LIMIT_WRITE_WINDOW_S },
    expensive: { max: s.RATE_LIMIT_EXPENSIVE_MAX, windowS: s.RATE_LIMIT_EXPENSIVE_WINDOW_S },
  }
}

/**
 * The per-user class of a route, from its template (never the raw path, so trailing
 * slashes, letter case and percent-encoding cannot open a fresh bucket).
 */
export function routeClass(method: string, route: string, expensive: ReadonlySet<string>): LimitClass {
  if (expensive.has(routeId(method, route))) return 'expensive'
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write'
}

/** `METHOD /template` without a trailing slash: prefixes make `/v1/stories` and `/v1/stories/` one route. */
export function routeId(method: string, route: string): string {
  return `${method} ${route.length > 1 && route.endsWith('/') ? route.slice(0, -1) : route}`
}
