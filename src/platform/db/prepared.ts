import { runInScope } from '../request-scope.ts'
import type { DbOrTx } from './database.ts'
import { rootOf, scopeOf } from './scoped.ts'

/**
 * Named prepared statements for hot queries. node-postgres re-plans an unnamed
 * query on every call; a named one is parsed once per connection and reused (about
 * twice the throughput on the story-by-id join). pgbouncer before 1.21 cannot carry
 * named statements in transaction mode, hence DB_PREPARED_STATEMENTS=false.
 * Only the pool-level handle registered at open uses names; transactions run unnamed.
 */
const namedStatements = new WeakMap<object, boolean>()

export function useNamedStatements(db: object, enabled: boolean): void {
  namedStatements.set(db, enabled)
}

interface Executable<P, R> {
  execute(params?: P): Promise<R>
}

interface Preparable<P, R> extends Executable<P, R> {
  prepare(name: string): Executable<P, R>
}

/**
 * Wraps a query built with `sql.placeholder(...)` so it runs named where enabled. A
 * request's handle (scoped.ts) shares its database's prepared statement, which is bound
 * to the shared pool: it runs inside the request's scope, and drizzle hands the
 * statement to the pool before its first await, so the pool still sees the scope.
 */
export function hotQuery<P extends Record<string, unknown>, R>(
  name: string,
  build: (db: DbOrTx) => Preparable<P, R>,
): (db: DbOrTx, params: P) => Promise<R> {
  const prepared = new WeakMap<object, Executable<P, R>>()
  return (db, params) => {
    const root = rootOf(db)
    if (!namedStatements.get(root)) return build(db).execute(params)
    let statement = prepared.get(root)
    if (!statement) {
      statement = build(root).prepare(name)
      prepared.set(root, statement)
    }
    const scope = scopeOf(db)
    return scope ? runInScope(scope, () => statement.execute(params)) : statement.execute(params)
  }
}
