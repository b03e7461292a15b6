import { type RequestScope, runInScope } from '../request-scope.ts'
import type { Db, DbOrTx } from './database.ts'

/**
 * A request's database handle: the shared drizzle database, whose every statement and
 * transaction starts inside the request's scope (request-scope.ts), so the pool sees
 * the request's deadline and trace span at the moment it hands out a connection.
 *
 * The scope is not carried by async context (no AsyncLocalStorage, see
 * request-scope.ts); this handle carries it. Drizzle builds every query and
 * transaction from `db.session`, and the session sends them to `session.client` (the
 * pg Pool, or the PGlite client): the handle shares everything with the shared
 * database except those two; the session is the shared one's child, its client a
 * forwarder whose entry points re-enter the scope. Made once per request that
 * reaches the database: three small objects, no copy of any state.
 *
 * Drizzle 0.45's layout (`session`, `session.client`) is pinned by package-lock.json
 * and checked by test/ops/deadline-database.test.ts (every kind of statement through
 * a handle is bound by its deadline).
 */
const SCOPE = Symbol('request scope')
const ROOT = Symbol('shared database')

interface Scoped {
  [SCOPE]?: RequestScope
  [ROOT]?: Db
}

type Entry = (...args: unknown[]) => unknown
type Client = Partial<Record<'query' | 'connect' | 'transaction', Entry>>

interface DrizzleInternals {
  session: { client: Client }
}

/**
 * The request's view of the pool (or PGlite client): its three entry points forward to
 * the real one inside the request's scope. A forwarding object, not one inheriting
 * from the pool: a view made with Object.create(pool) cost about 27k instructions more
 * per read (callgrind), most likely because the pool, once a prototype, has each write
 * to its own state (pg-pool updates it on every checkout) invalidate V8's caches for
 * the objects built on it. Its
 * class name holds "Pool" because that is how drizzle's node-postgres session tells a
 * pool (checked out per transaction) from a client.
 */
class ScopedPool implements Client {
  constructor(
    private readonly client: Client,
    private readonly scope: RequestScope,
  ) {}

  query(...args: unknown[]): unknown {
    return runInScope(this.scope, () => this.client.query!(...args))
  }

  connect(...args: unknown[]): unknown {
    return runInScope(this.scope, () => this.client.connect!(...args))
  }

  transaction(...args: unknown[]): unknown {
    return runInScope(this.scope, () => this.client.transaction!(...args))
  }
}

export function scopedDb(db: Db, scope: RequestScope): Db {
  const root = rootOf(db) as Db
  const session = (root as unknown as DrizzleInternals).session
  if (!session?.client) throw new Error('drizzle database without session.client: see db/scoped.ts')
  const scopedSession = Object.create(session) as DrizzleInternals['session']
  scopedSession.client = new ScopedPool(session.client, scope)
  const handle = Object.create(root) as DrizzleInternals & Scoped
  handle.session = scopedSession
  handle[SCOPE] = scope
  handle[ROOT] = root
  return handle as unknown as Db
}

/** The request scope a handle from `scopedDb` carries; undefined for any other handle. */
export function scopeOf(db: DbOrTx): RequestScope | undefined {
  return (db as Scoped)[SCOPE]
}

/** The shared database behind a handle from `scopedDb`; any other handle is itself. */
export function rootOf(db: DbOrTx): DbOrTx {
  return (db as Scoped)[ROOT] ?? db
}
