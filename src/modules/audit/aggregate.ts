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
type Deps = { db: Db; log: Logger }

function write(deps: Deps, windowS: number, event: AggregatedEvent, details: Record<string, unknown>) {
  return recordAudit(deps, {
    action: event.action,
    actor: event.actor ?? { type: 'anonymous' },
    outcome: event.outcome,
    details: { reason: event.reason, windowS, ...details },
    source: { ...event.source, clientIp: event.clientIp },
  })
}

function summaryOf(bucket: Bucket, windowStart: Date) {
  return {
    count: bucket.more,
    aggregated: true,
    windowStart: windowStart.toISOString(),
    firstAt: bucket.firstAt.toISOString(),
    lastAt: bucket.lastAt.toISOString(),
  }
}

export function createAggregator(deps: Deps, windowS: number): Aggregator {
  let buckets = new Map<string, Bucket>()
  let windowStart = new Date()
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
      await write(deps, windowS, event, { count: 1, firstAt: now.toISOString(), aggregated: false })
    },
    async flush() {
      const [closing, from] = [buckets, windowStart]
      buckets = new Map()
      windowStart = new Date()
      for (const bucket of closing.values()) {
        if (bucket.more === 0) continue
        // The summary stands for many requests: no single request's id or user agent.
        const event = { ...bucket.event, source: { requestId: null, userAgent: null } }
        await write(deps, windowS, event, summaryOf(bucket, from))
      }
    },
  }
}
