import {
  createStackParser,
  createTransport,
  dedupeIntegration,
  linkedErrorsIntegration,
  Scope,
} from '@sentry/core'
import { nodeStackLineParser, ServerRuntimeClient } from '@sentry/core/server'
import type { Logger } from 'pino'
import { Counter, type Metric } from 'prom-client'

/** What an event is tagged with: ids and templates only, never bodies, headers or tokens. */
export type ReportTags = Record<string, string | number | undefined>

export interface ErrorReporter {
  readonly enabled: boolean
  /** Queues an error for Sentry; never throws, never waits. */
  report(error: unknown, tags?: ReportTags): void
  /** Sends what is queued, waiting at most `timeoutMs`; false if some was not sent. */
  flush(timeoutMs: number): Promise<boolean>
  readonly metrics: Metric[]
}

export interface ErrorReporterSettings {
  SENTRY_DSN?: string | undefined
  NODE_ENV: string
}

/** How long one delivery to Sentry may take. */
const SEND_TIMEOUT_MS = 5000

/**
 * Unexpected errors go to Sentry when SENTRY_DSN is set (the 500s of the API, jobs
 * whose last try failed, fatal errors of the API and worker processes); they are
 * logged either way. This uses
 * `@sentry/core` directly rather than `@sentry/node`: the latter sets up OpenTelemetry
 * instrumentation of http, pg and more, and its own async context, whose cost every
 * request would pay (docs/operations.md). No request data is attached beyond the tags
 * the caller passes (request id, route template, method), and no default PII.
 */
export function createErrorReporter(
  settings: ErrorReporterSettings,
  log: Logger,
  release = 'inkwell',
): ErrorReporter {
  const outcomes = new Counter({
    name: 'inkwell_error_reports_total',
    help: 'Errors handed to Sentry, by outcome (queued, or dropped before sending)',
    labelNames: ['outcome'],
    registers: [],
  })
  const dsn = settings.SENTRY_DSN
  if (!dsn) {
    return { enabled: false, report() {}, flush: async () => true, metrics: [outcomes] }
  }
  const client = new ServerRuntimeClient({
    dsn,
    environment: settings.NODE_ENV,
    release,
    platform: 'node',
    runtime: { name: 'node', version: process.version },
    sendDefaultPii: false,
    integrations: [dedupeIntegration(), linkedErrorsIntegration()],
    stackParser: createStackParser(nodeStackLineParser()),
    transport: (options) =>
      createTransport(options, async (request) => {
        try {
          const response = await fetch(options.url, {
            method: 'POST',
            body: request.body as string | Uint8Array,
            headers: options.headers,
            signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
          })
          return {
            statusCode: response.status,
            headers: {
              'x-sentry-rate-limits': response.headers.get('x-sentry-rate-limits'),
              'retry-after': response.headers.get('retry-after'),
            },
          }
        } catch (err) {
          // Reporting must never become an error of its own: logged, and the event is lost.
          log.warn({ err: (err as Error).message }, 'error report not delivered to Sentry')
          throw err
        }
      }),
  })
  client.init()
  return {
    enabled: true,
    report(error, tags = {}) {
      try {
        const scope = new Scope()
        scope.setClient(client)
        for (const [key, value] of Object.entries(tags))
          if (value !== undefined) scope.setTag(key, String(value))
        scope.captureException(error)
        outcomes.inc({ outcome: 'queued' })
      } catch (err) {
        outcomes.inc({ outcome: 'dropped' })
        log.warn({ err }, 'error report not queued')
      }
    },
    flush: async (timeoutMs) => client.flush(timeoutMs),
    metrics: [outcomes],
  }
}
