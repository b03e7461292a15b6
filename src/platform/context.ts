import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import type { Cache } from './cache/cache.ts'
import type { Database, Db } from './db/database.ts'
import type { CursorCodec } from './http/cursor.ts'
import type { JobRunner } from './jobs/runner.ts'
import type { ErrorReporter } from './observability/error-reporter.ts'
import type { Tracing } from './observability/tracing.ts'
import type { RequestScope } from './request-scope.ts'

/** What modules receive: the parsed config and every infrastructure adapter. */
export interface AppContext {
  config: Readonly<Config>
  database: Database
  db: Db
  cache: Cache
  jobs: JobRunner
  cursors: CursorCodec
  log: Logger
  /** Unexpected errors to Sentry when SENTRY_DSN is set (error-reporter.ts). */
  errors: ErrorReporter
  /** OpenTelemetry traces when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (tracing.ts). */
  tracing: Tracing
  /**
   * Set in a request's deps only (http/request-deps.ts, where `db` is the request's
   * handle too): the request's deadline and source, for the reads and audit rows it
   * leads to. Absent in the app's own context, which background work uses.
   */
  readonly scope?: RequestScope
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext
  }
}
