import { AsyncLocalStorage } from 'node:async_hooks'
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
 * One AsyncLocalStorage carries the whole scope. On Node 20 every store in use adds
 * work to the creation of every promise in the process (async_hooks' promise init
 * hook propagates each store), so one store for the deadline and the request's
 * source (the audit log's) costs about half of two.
 */
const storage = new AsyncLocalStorage<RequestScope>()

export function runInScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn)
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore()
}

/**
 * Runs `fn` outside any request scope. Work that outlives a request (a timer started
 * lazily, a fire-and-forget write) must start here, or it inherits the request's
 * deadline and is cancelled, or refused, once that request times out or its client goes away.
 */
export function outsideScope<T>(fn: () => T): T {
  return storage.exit(fn)
}
