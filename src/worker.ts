import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { loadConfigOrExit } from './config/index.ts'
import { createPlatform } from './platform/create-context.ts'
import { queueRedisUrl } from './platform/jobs/index.ts'
import { startMonitor } from './platform/jobs/monitor.ts'
import { createLogger } from './platform/observability/logger.ts'

/**
 * The worker consumes the BullMQ queues and owns the periodic schedules. It builds
 * the same app as the API (so every module registers the same job definitions) but
 * serves no API; its port (WORKER_PORT) has /metrics and /healthz only.
 */
const { config, secrets } = await loadConfigOrExit()
function refuse(message: string): never {
  process.stderr.write(`inkwell worker: ${message}\n`)
  process.exit(78)
}
if (!queueRedisUrl(config)) {
  refuse(
    'neither QUEUE_REDIS_URL nor REDIS_URL is set. Without Redis, `npm start` runs every job in-process.',
  )
}
if (!config.DATABASE_URL) {
  refuse('DATABASE_URL is not set: the embedded PGlite database belongs to the API process alone.')
}
const log = createLogger(config.LOG_LEVEL).child({ process: 'worker' })
const platform = await createPlatform(config, log, { secrets, role: 'worker' })
const app = await buildApp(platform)
await app.ready()
const monitor = await startMonitor(
  platform.jobs,
  platform.ctx.database,
  {
    host: config.HOST,
    port: config.WORKER_PORT,
    extra: platform.metrics.filter((m) => !platform.jobs.metrics.includes(m)),
  },
  log,
)

// SIGTERM: stop taking jobs, let active ones finish within WORKER_SHUTDOWN_TIMEOUT_MS
// (past it they return to the queue through BullMQ's stalled-job check), close, exit 0.
closeWithGrace(
  { delay: config.WORKER_SHUTDOWN_TIMEOUT_MS + 10_000, logger: log },
  async ({ signal, err }) => {
    if (err) {
      log.error({ err }, 'fatal error; shutting down')
      platform.ctx.errors.report(err, { fatal: 'true', process: 'worker' })
    } else log.info({ signal }, 'worker shutting down')
    await monitor.close()
    await app.close()
    log.info('worker stopped')
  },
)

log.info(
  { port: monitor.port, jobs: platform.ctx.jobs.definitions().map((d) => d.name) },
  `inkwell worker ready; monitoring on http://${config.HOST}:${monitor.port}`,
)
