import { connect, type Socket } from 'node:net'
import type pg from 'pg'
import type { Logger } from 'pino'
import { Deadline } from '../deadline.ts'
import { currentScope, outsideScope, runInScope } from '../request-scope.ts'

/**
 * Request deadlines reach the database without threading a signal through every
 * query function: the HTTP layer runs each request in its scope (request-scope.ts),
 * and the PostgreSQL pool stops the statements issued in it when its deadline aborts.
 *
 * node-postgres cannot cancel a query, and `pg_cancel_backend(pid)` needs the
 * server pid, which is unknown (and not stable between statements) behind
 * pgbouncer in transaction mode. `SET LOCAL statement_timeout` would need every
 * statement wrapped in its own transaction. So this sends the protocol's own
 * CancelRequest (the key from BackendKeyData, on a fresh socket), which is what
 * psql's Ctrl-C does and which pgbouncer forwards to whichever server connection
 * is running that client's statement at the time.
 */

/** Runs `fn` so that every statement it starts is stopped when `deadline` aborts. */
export function withStatementSignal<T>(deadline: Deadline | AbortSignal, fn: () => T): T {
  return runInScope({ deadline: deadline instanceof Deadline ? deadline : Deadline.from(deadline) }, fn)
}

/** Runs `fn` outside any statement deadline (see outsideScope). */
export const withoutStatementSignal = outsideScope

const currentDeadline = (): Deadline | undefined => currentScope()?.deadline

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
 * cancelled. The client goes back to the pool only after the cancel has landed and
 * is then discarded, so a cancel can never hit the next borrower's statement.
 */
function watchClient(client: pg.PoolClient, deadline: Deadline, log: Logger): pg.PoolClient {
  let cancelled: Promise<void> | undefined
  let dropTimer: NodeJS.Timeout | undefined
  const cancel = () => {
    cancelled = sendCancelRequest(client as unknown as BackendKey)
    // A statement that ignores the cancel (server unreachable, pgbouncer holding
    // it) must not pin a pool slot: ending the connection fails it client-side.
    dropTimer = setTimeout(() => {
      log.warn('cancelled statement still running; dropping its connection')
      client.end().catch(() => {})
    }, CANCEL_GRACE_MS).unref()
  }
  const unsubscribe = deadline.onAbort(cancel)
  const release = client.release
  client.release = (err?: Error | boolean) => {
    unsubscribe()
    clearTimeout(dropTimer)
    if (cancelled === undefined) return release(err)
    void cancelled.then(() => release(err || new Error('statement cancelled at deadline')))
  }
  return client
}

type Connect = (callback: (err: Error | undefined, client?: pg.PoolClient) => void) => void

/**
 * Checks out a client for work under `deadline`: refused once it has aborted, and a
 * wait for a free connection gives up when it aborts (the client that arrives late is
 * returned to the pool). Callback style, like pg-pool itself: a statement is the hot
 * path, and every promise costs more while a request scope is in use.
 */
function checkoutUnder(
  connect: Connect,
  deadline: Deadline,
  log: Logger,
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
    else callback(undefined, watchClient(client, deadline, log))
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
  const connectUnder = (deadline: Deadline) =>
    new Promise<pg.PoolClient>((resolve, reject) =>
      checkoutUnder(connect as Connect, deadline, log, (err, client) =>
        err ? reject(err) : resolve(client!),
      ),
    )
  // pg-pool's own query() calls connect(callback): that form passes straight through.
  pool.connect = ((callback?: unknown) => {
    const deadline = currentDeadline()
    if (typeof callback === 'function' || deadline === undefined) return connect(callback as never)
    return connectUnder(deadline)
  }) as typeof pool.connect
  pool.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    const deadline = currentDeadline()
    if (deadline === undefined || typeof values === 'function' || typeof callback === 'function')
      return query(text as never, values as never, callback as never)
    return new Promise((resolve, reject) =>
      checkoutUnder(connect as Connect, deadline, log, (err, client) => {
        if (err) return reject(err)
        client!.query(text as never, values as never, (queryErr: Error | null, result: unknown) => {
          // Like pg-pool, a client whose statement failed is not reused.
          client!.release(queryErr ?? undefined)
          if (queryErr) reject(deadline.aborted ? deadline.reason : queryErr)
          else resolve(result)
        })
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
