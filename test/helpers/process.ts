import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')

/** Environment for a child process on the embedded default, whatever the test run uses. */
export function embeddedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // No load balancer to drain for here: SIGTERM shuts down at once (test/ops covers the drain).
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0', ...extra }
  for (const name of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'REDIS_URL'])
    if (!(name in extra)) delete env[name]
  return env
}

export function runCli(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

export interface ServerProcess {
  child: ChildProcess
  baseUrl: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

interface StartedProcess {
  child: ChildProcess
  url: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Spawns `node <script>` (not npm, which does not forward signals) and waits for the
 * line matching `ready` (its first group is the URL). A process that does not get
 * ready in time is killed, so no orphan outlives the test.
 */
async function startProcess(
  script: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs: number,
): Promise<StartedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${script} did not start:\n${output}`))
    }, timeoutMs)
    child.stdout!.on('data', () => {
      const match = ready.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}:\n${output}`))
    })
  })
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      // A process killed by a signal has a null exitCode but a signalCode: it exited all the same.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      const [code] = await once(child, 'exit')
      return code as number | null
    },
  }
}

/** Starts `node src/server.ts` and waits until it listens (PORT 0: any free port). */
export async function startServer(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const started = await startProcess(
    'src/server.ts',
    { PORT: '0', HOST: '127.0.0.1', ...env },
    /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
    120_000,
  )
  return { ...started, baseUrl: started.url }
}

export interface WorkerProcess {
  child: ChildProcess
  /** Base URL of its monitoring port (/metrics, /healthz). */
  monitorUrl: string
  output: () => string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts `node src/worker.ts` and waits until it reports ready (WORKER_PORT 0: any free port). */
export async function startWorker(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  // The ready line is logged at info, whatever level the test run uses.
  const started = await startProcess(
    'src/worker.ts',
    { WORKER_PORT: '0', HOST: '127.0.0.1', ...env, LOG_LEVEL: 'info' },
    /monitoring on (http:\/\/127\.0\.0\.1:\d+)/,
    180_000,
  )
  return { ...started, monitorUrl: started.url }
}
