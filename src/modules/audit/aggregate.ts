import type { Logger } from 'pino'
import type { Db } from '../../platform/db/database.ts'
import type { AuditActor, AuditOutcome, AuditSource } from './record.ts'
import { recordAudit } from './record.ts'

/** One attack signal: `auth.failed` or `ratelimit.blocked`, by source and reason. */
export interface AggregatedEvent {
  action: 'auth.failed' | 'ratelimit.blocked'
  outcome: AuditOutcome
  /** The client IP the events came from (never a claim of a refused token). */
  clientIp: string
  /** A closed word (problem code, limit name): bounded cardinality. */
  reason: string
  source?: AuditSource
  actor?: AuditActor
}

interface Bucket {
  event: AggregatedEvent
  firstAt: Date
  lastAt: Date
  /** Events after the first, summarized when the window closes. */
  more: number
}

/** Past this many distinct sources in one window, the rest share one overflow bucket. */
const MAX_BUCKETS = 10_000

export interface Aggregator {
  /** Counts one event; the first of its (action, source, reason) in a window is written at once. */
  record(event: AggregatedEvent): Promise<void>
  /** Closes the window: one summary row per bucket that saw more than its first event. */
  flush(): Promise<void>
}

/**
 * An attacker cannot flood the table: each (action, source, reason) costs at most
 * two rows per window per process, and the number of buckets is capped.
 */
export function createAggregator(deps: { db: Db; log: Logger }, windowS: number): Aggregator {
  let buckets = new Map<string, Bucket>()
  let windowStart = new Date()
  const write = (event: AggregatedEvent, details: Record<string, unknown>) =>
    recordAudit(deps, {
      action: event.action,
      actor: event.actor ?? { type: 'anonymous' },
      outcome: event.outcome,
      details: { reason: event.reason, windowS, ...details },
      source: { clientIp: event.clientIp, ...event.source },
    })
  return {
    async record(event) {
      let key = `${event.action}|${event.clientIp}|${event.reason}`
      if (!buckets.has(key) && buckets.size >= MAX_BUCKETS) {
        key = `${event.action}|*|overflow`
        event = { ...event, clientIp: '*', reason: 'overflow' }
      }
      const now = new Date()
      const bucket = buckets.get(key)
      if (bucket) {
        bucket.more++
        bucket.lastAt = now
        return
      }
      buckets.set(key, { event, firstAt: now, lastAt: now, more: 0 })
      await write(event, { count: 1, firstAt: now.toISOString(), aggregated: false })
    },
    async flush() {
      const closing = buckets
      const from = windowStart
      buckets = new Map()
      windowStart = new Date()
      for (const bucket of closing.values()) {
        if (bucket.more === 0) continue
        await write(
          { ...bucket.event, source: { requestId: null, userAgent: null } },
          {
            count: bucket.more,
            aggregated: true,
            windowStart: from.toISOString(),
            firstAt: bucket.firstAt.toISOString(),
            lastAt: bucket.lastAt.toISOString(),
          },
        )
      }
    },
  }
}
