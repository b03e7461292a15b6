import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..', '..')

export interface ApiProcess {
  child: ChildProcess
  port: number
  baseUrl: string
  output(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
  signal(signal: NodeJS.Signals): void
}

/**
 * Starts `node --import tsx src/server.ts` itself (npm would not pass signals on)
 * and resolves once it listens (read from its log: LOG_LEVEL must be info or finer).
 * `env` is the whole environment of the child.
 */
export async function startApi(env: NodeJS.ProcessEnv, startTimeoutMs = 60_000): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`API did not start:\n${output}`))
    }, startTimeoutMs)
    const onData = () => {
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (!match) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      resolve(Number(match[1]))
    }
    child.stdout!.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`API exited with ${code} before listening:\n${output}`))
    })
  })
  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
}

/** The environment of a child on the embedded database, whatever this test run uses. */
export function embeddedApiEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The listening line is read from the log, so the run's LOG_LEVEL=silent is overridden.
  const env: NodeJS.ProcessEnv = { ...process.env, SEED_DEMO: 'false', LOG_LEVEL: 'info', ...extra }
  for (const name of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'DATABASE_READ_URL', 'REDIS_URL'])
    if (!(name in extra)) delete env[name]
  return env
}

/** True when nothing accepts connections on the port any more. */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

export interface SlowRequest {
  /** Sends the rest of the body; resolves with the raw response once the server closes the connection. */
  finish(): Promise<string>
  /** Resolves with whatever arrived when the server closes the connection. */
  closed: Promise<string>
}

/**
 * A request kept in flight by its client: headers and part of a JSON body are sent
 * now, the rest when `finish` is called.
 */
export async function startSlowRequest(port: number): Promise<SlowRequest> {
  const body = JSON.stringify({ title: 'in flight', body: 'sent slowly', tags: [] })
  const socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (d) => (received += d))
  socket.on('error', () => {})
  const closed = once(socket, 'close').then(() => received)
  socket.write(
    `POST /v1/stories HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  )
  return {
    closed,
    finish: async () => {
      socket.write(body.slice(10))
      return closed
    },
  }
}
