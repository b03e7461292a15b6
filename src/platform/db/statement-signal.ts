import { connect, type Socket } from 'node:net'
import type pg from 'pg'
import type { Logger } from 'pino'
import { Deadline } from '../deadline.ts'
import { currentScope, type RequestScope, runInScope } from '../request-scope.ts'

/**
 * Request deadlines reach the database without threading a signal through every
 * query function: a request's database handle (scoped.ts) starts each statement and
 * transaction inside the request's scope (request-scope.ts), and the PostgreSQL pool
 * stops the statements issued in it when its deadline aborts.
 *
 * node-postgres cannot cancel a query, and `pg_cancel_backend(pid)` needs the
 * server pid, which is unknown (and not stable between statements) behind
 * pgbouncer in transaction mode. `SET LOCAL statement_timeout` would need every
 * statement wrapped in its own transaction. So this sends the protocol's own
 * CancelRequest (the key from BackendKeyData, on a fresh socket), which is what
 * psql's Ctrl-C does and which pgbouncer forwards to whichever server connection
 * is running that client's statement at the time.
 */

/**
 * Runs `fn` so that the statements it starts before its first await (one pool call,
 * `database.ping()`, a script transaction's checkout) are stopped when `deadline`
 * aborts. For more, use a handle from `scopedDb` (scoped.ts), which re-enters the
 * scope at every statement.
 */
export function withStatementSignal<T>(deadline: Deadline | AbortSignal, fn: () => T): T {
  return runInScope({ deadline: deadline instanceof Deadline ? deadline : Deadline.from(deadline) }, fn)
}

const currentDeadline = (): Deadline | undefined => currentScope()?.deadline

type Query = (...args: unknown[]) => unknown

/** How long a cancelled statement may take to stop before its connection is dropped. */
const CANCEL_GRACE_MS = 2000

interface BackendKey {
  host: string
  port: number
  processID: number
  secretKey: number
}

/** Sends a CancelRequest; resolves once the server has taken it (it closes the socket). */
export function sendCancelRequest({ host, port, processID, secretKey }: BackendKey): Promise<void> {
  const packet = Buffer.alloc(16)
  packet.writeInt32BE(16, 0)
  packet.writeInt32BE(80877102, 4) // the CancelRequest code
  packet.writeInt32BE(processID, 8)
  packet.writeInt32BE(secretKey, 12)
  return new Promise((resolve) => {
    const socket: Socket = host.startsWith('/')
      ? connect({ path: `${host}/.s.PGSQL.${port}` })
      : connect({ host, port })
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, CANCEL_GRACE_MS)
    socket.once('connect', () => socket.write(packet))
    socket.once('close', done)
    socket.once('error', done)
  })
}

/**
 * Keeps a checked-out client under `deadline`: on abort its running statement is
 * cancelled. Returns how to give the client back: only after the cancel has landed,
 * and then to be discarded, so a cancel can never hit the next borrower's statement.
 */
function watchClient(
  client: pg.PoolClient,
  deadline: Deadline,
  log: Logger,
): (err?: Error | boolean) => void {
  let cancelled: Promise<void> | undefined
  let dropTimer: NodeJS.Timeout | undefined
  const unsubscribe = deadline.onAbort(() => {
    cancelled = sendCancelRequest(client as unknown as BackendKey)
    // A statement that ignores the cancel (server unreachable, pgbouncer holding
    // it) must not pin a pool slot: ending the connection fails it client-side.
    dropTimer = setTimeout(() => {
      log.warn('cancelled statement still running; dropping its connection')
      client.end().catch(() => {})
    }, CANCEL_GRACE_MS).unref()
  })
  return (err) => {
    unsubscribe()
    clearTimeout(dropTimer)
    if (cancelled === undefined) client.release(err)
    else void cancelled.then(() => client.release(err || new Error('statement cancelled at deadline')))
  }
}

/**
 * A client lent out (a transaction's): watched as above through its own `release`,
 * and each of its statements, which follow awaits, starts inside `scope` (its trace
 * span's parent). Its release gives back the pool's own `release` and the class's own
 * `query` (the last property added: V8 undoes it in place).
 *
 * Only lent clients are patched so. Replacing `release` on the statement path too (each
 * pool.query) made every request's objects outlive it: promoted by scavenges and freed
 * by full collections, about a fifth of the database read's CPU (101 µs against 80,
 * measured with --trace-gc;
 * the mechanism inside V8 was not pinned down). That path releases through the
 * function watchClient returns instead.
 */
function lend(client: pg.PoolClient, scope: RequestScope, log: Logger): pg.PoolClient {
  const giveBack = watchClient(client, scope.deadline, log)
  const release = client.release
  const query = client.query as Query
  client.query = ((...args: unknown[]) => runInScope(scope, () => query.apply(client, args))) as never
  client.release = (err?: Error | boolean) => {
    client.release = release
    delete (client as { query?: unknown }).query
    giveBack(err)
  }
  return client
}

type Connect = (callback: (err: Error | undefined, client?: pg.PoolClient) => void) => void

/**
 * Checks out a client for work under `deadline`: refused once it has aborted, and a
 * wait for a free connection gives up when it aborts (the client that arrives late is
 * returned to the pool). Callback style, like pg-pool itself: a statement is the hot path.
 */
function checkoutUnder(
  connect: Connect,
  deadline: Deadline,
  callback: (err: unknown, client?: pg.PoolClient) => void,
): void {
  if (deadline.aborted) {
    callback(deadline.reason)
    return
  }
  let gaveUp = false
  const unsubscribe = deadline.onAbort(() => {
    gaveUp = true
    callback(deadline.reason)
  })
  connect((err, client) => {
    unsubscribe()
    // The late client is released here only: releasing it twice threw "Release called
    // on client which has already been released", unhandled.
    if (gaveUp) client?.release()
    else if (err || !client) callback(err)
    else callback(undefined, client)
  })
}

/**
 * Makes `pool` honour the statement deadline of the caller: a checkout or statement
 * started after the deadline is refused, one waiting for a connection gives up,
 * one running is cancelled. Calls outside any scope (jobs, migrations) are untouched.
 */
export function cancelOnSignal(pool: pg.Pool, log: Logger): pg.Pool {
  const connect = pool.connect.bind(pool)
  const query = pool.query.bind(pool)
  const connectUnder = (scope: RequestScope) =>
    new Promise<pg.PoolClient>((resolve, reject) =>
      checkoutUnder(connect as Connect, scope.deadline, (err, client) =>
        err ? reject(err) : resolve(lend(client!, scope, log)),
      ),
    )
  // pg-pool's own query() calls connect(callback): that form passes straight through.
  pool.connect = ((callback?: unknown) => {
    const scope = currentScope()
    if (typeof callback === 'function' || scope === undefined) return connect(callback as never)
    return connectUnder(scope)
  }) as typeof pool.connect
  pool.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    const scope = currentScope()
    if (scope === undefined || typeof values === 'function' || typeof callback === 'function')
      return query(text as never, values as never, callback as never)
    const { deadline } = scope
    return new Promise((resolve, reject) =>
      checkoutUnder(connect as Connect, deadline, (err, client) => {
        if (err) return reject(err)
        const giveBack = watchClient(client!, deadline, log)
        // A connection may arrive after the caller's turn: the statement starts inside
        // the scope again (its trace span's parent).
        runInScope(scope, () =>
          client!.query(text as never, values as never, (queryErr: Error | null, result: unknown) => {
            // Like pg-pool, a client whose statement failed is not reused.
            giveBack(queryErr ?? undefined)
            if (queryErr) reject(deadline.aborted ? deadline.reason : queryErr)
            else resolve(result)
          }),
        )
      }),
    )
  }) as typeof pool.query
  return pool
}

/**
 * PGlite runs statements on the main thread and cannot interrupt one, so its best
 * effort is to refuse to start a query or transaction once the caller's deadline has
 * aborted (statements inside a transaction already begun go on, so it can roll back).
 */
export function refuseAfterAbort<T extends object>(client: T, methods: Array<keyof T & string>): T {
  for (const name of methods) {
    const original = (client[name] as (...args: unknown[]) => unknown).bind(client)
    Object.assign(client, {
      [name]: (...args: unknown[]) => {
        currentDeadline()?.throwIfAborted()
        return original(...args)
      },
    })
  }
  return client
}
