import { AsyncLocalStorage } from 'node:async_hooks'
import { connect, type Socket } from 'node:net'
import type pg from 'pg'
import type { Logger } from 'pino'

/**
 * Request deadlines reach the database without threading a signal through every
 * query function: the HTTP layer runs each request under its deadline signal, and
 * the PostgreSQL pool stops the statements issued under it when it aborts.
 *
 * node-postgres cannot cancel a query, and `pg_cancel_backend(pid)` needs the
 * server pid, which is unknown (and not stable between statements) behind
 * pgbouncer in transaction mode. `SET LOCAL statement_timeout` would need every
 * statement wrapped in its own transaction. So this sends the protocol's own
 * CancelRequest (the key from BackendKeyData, on a fresh socket), which is what
 * psql's Ctrl-C does and which pgbouncer forwards to whichever server connection
 * is running that client's statement at the time.
 */
const scope = new AsyncLocalStorage<AbortSignal>()

/** Runs `fn` so that every statement it starts is stopped when `signal` aborts. */
export function withStatementSignal<T>(signal: AbortSignal, fn: () => T): T {
  return scope.run(signal, fn)
}

export function currentStatementSignal(): AbortSignal | undefined {
  return scope.getStore()
}

/**
 * Runs `fn` outside any statement signal. Work that outlives a request (a timer
 * started lazily, a fire-and-forget write, a job) must start here, or it inherits
 * the request's signal and is cancelled, or refused, once that request times out
 * or its client goes away.
 */
export function withoutStatementSignal<T>(fn: () => T): T {
  return scope.exit(fn)
}

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
 * Node's EventTarget makes addEventListener/removeEventListener costly, and a request
 * checks out a client for each statement: its callbacks share one listener per signal.
 * Returns the unsubscribe.
 */
const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>()

function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = abortCallbacks.get(signal)
  if (!callbacks) {
    const set = new Set<() => void>()
    callbacks = set
    abortCallbacks.set(signal, set)
    signal.addEventListener(
      'abort',
      () => {
        for (const run of [...set]) run()
        set.clear()
      },
      { once: true },
    )
  }
  callbacks.add(callback)
  return () => callbacks.delete(callback)
}

/**
 * Keeps a checked-out client under `signal`: on abort its running statement is
 * cancelled. The client goes back to the pool only after the cancel has landed and
 * is then discarded, so a cancel can never hit the next borrower's statement.
 */
function watchClient(client: pg.PoolClient, signal: AbortSignal, log: Logger): pg.PoolClient {
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
  const unsubscribe = onAbort(signal, cancel)
  const release = client.release
  client.release = (err?: Error | boolean) => {
    unsubscribe()
    clearTimeout(dropTimer)
    if (cancelled === undefined) return release(err)
    void cancelled.then(() => release(err || new Error('statement cancelled at deadline')))
  }
  return client
}

/** Waits for `pending` unless `signal` aborts first; a client that arrives late is returned. */
function untilAborted(pending: Promise<pg.PoolClient>, signal: AbortSignal): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    // The late client is released by the handler below (signal.aborted): releasing it here
    // too threw "Release called on client which has already been released", unhandled.
    const unsubscribe = onAbort(signal, () => reject(signal.reason))
    pending.then(
      (client) => {
        unsubscribe()
        if (signal.aborted) client.release()
        else resolve(client)
      },
      (err) => {
        unsubscribe()
        reject(err)
      },
    )
  })
}

/**
 * Makes `pool` honour the statement signal of the caller: a checkout or statement
 * started after the deadline is refused, one waiting for a connection gives up,
 * one running is cancelled. Calls outside any signal (jobs, migrations) are untouched.
 */
export function cancelOnSignal(pool: pg.Pool, log: Logger): pg.Pool {
  const connect = pool.connect.bind(pool)
  const query = pool.query.bind(pool)
  const connectUnder = async (signal: AbortSignal) => {
    signal.throwIfAborted()
    return watchClient(await untilAborted(connect(), signal), signal, log)
  }
  // pg-pool's own query() calls connect(callback): that form passes straight through.
  pool.connect = ((callback?: unknown) => {
    const signal = scope.getStore()
    if (typeof callback === 'function' || signal === undefined) return connect(callback as never)
    return connectUnder(signal)
  }) as typeof pool.connect
  pool.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    const signal = scope.getStore()
    if (signal === undefined || typeof values === 'function' || typeof callback === 'function')
      return query(text as never, values as never, callback as never)
    return queryUnder(signal, () => connectUnder(signal), text, values)
  }) as typeof pool.query
  return pool
}

async function queryUnder(
  signal: AbortSignal,
  checkout: () => Promise<pg.PoolClient>,
  text: unknown,
  values: unknown,
) {
  const client = await checkout()
  try {
    const result = await client.query(text as never, values as never)
    client.release()
    return result
  } catch (err) {
    // Like pg-pool, a client whose statement failed is not reused.
    client.release(err as Error)
    throw signal.aborted ? signal.reason : err
  }
}

/**
 * PGlite runs statements on the main thread and cannot interrupt one, so its best
 * effort is to refuse to start a query or transaction once the caller's signal has
 * aborted (statements inside a transaction already begun go on, so it can roll back).
 */
export function refuseAfterAbort<T extends object>(client: T, methods: Array<keyof T & string>): T {
  for (const name of methods) {
    const original = (client[name] as (...args: unknown[]) => unknown).bind(client)
    Object.assign(client, {
      [name]: (...args: unknown[]) => {
        scope.getStore()?.throwIfAborted()
        return original(...args)
      },
    })
  }
  return client
}
