import type { IncomingHttpHeaders } from 'node:http'
import type { Deadline } from './deadline.ts'
import type { Span } from './observability/tracing.ts'

/** The request whose work is running, as far as code below the HTTP layer needs it. */
export interface ScopedRequest {
  readonly id: string
  readonly ip: string
  readonly headers: IncomingHttpHeaders
  /** The request's server span when it is traced: its statements' spans are its children. */
  readonly traceSpan?: Span | undefined
}

/** What a request's work needs without being handed the request. */
export interface RequestScope {
  /** Statements issued in the scope are cancelled when it aborts (see db/statement-signal.ts). */
  readonly deadline: Deadline
  /** Absent for work that is not a request's (a readiness probe's checks). */
  readonly request?: ScopedRequest
}

/**
 * The scope of the code running right now, for the synchronous extent of `runInScope`
 * only: it is not carried across `await`s, timers or callbacks.
 *
 * Not an AsyncLocalStorage. On Node 20 a store in use runs async_hooks' init hook for
 * every promise, tick and timer the process creates, and before/after hooks around
 * every promise reaction: about 30 async resources per database read (counted with an
 * init hook: 15 promises, 11 ticks, 4 timers). Its removal and a GC leak it uncovered
 * took the read from 627k to 588k instructions (docs/database.md, run 13). Instead the
 * scope travels explicitly, in the handles request code already passes down: the
 * request's `deps` (http/request-deps.ts) and its database handle (db/scoped.ts), whose
 * pool calls re-enter the scope at the moment a statement starts. That moment is all
 * that reads it: the statement's deadline and trace parent (statement-signal.ts,
 * postgres-pool.ts) and a Redis command's trace parent (tracing.ts).
 */
let current: RequestScope | undefined

export function runInScope<T>(scope: RequestScope | undefined, fn: () => T): T {
  const outer = current
  current = scope
  try {
    return fn()
  } finally {
    current = outer
  }
}

export function currentScope(): RequestScope | undefined {
  return current
}

/** Runs `fn` outside any request scope (work that outlives a request must not carry its deadline). */
export function outsideScope<T>(fn: () => T): T {
  return runInScope(undefined, fn)
}
