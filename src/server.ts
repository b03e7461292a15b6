import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { seedDemoIfEmpty } from './cli/seed.ts'
import { loadConfigOrExit } from './config/index.ts'
import { createPlatform } from './platform/create-context.ts'
import { DataDirInUseError } from './platform/db/data-dir-lock.ts'
import { shutDownGracefully, shutdownBudgetMs } from './platform/http/shutdown.ts'
import { createLogger } from './platform/observability/logger.ts'

const { config, secrets } = await loadConfigOrExit()
const log = createLogger(config.LOG_LEVEL)

let platform: Awaited<ReturnType<typeof createPlatform>>
try {
  platform = await createPlatform(config, log, { secrets })
} catch (err) {
  if (err instanceof DataDirInUseError) {
    log.fatal(err.message)
    process.exit(1)
  }
  throw err
}
if (platform.ctx.database.freshlyCreated && config.SEED_DEMO)
  await seedDemoIfEmpty(platform.ctx.database, log)

const app = await buildApp(platform)

// SIGTERM: readiness 503 and drain, stop accepting, finish in-flight requests, close
// pools, exit 0 (see shutdown.ts). SIGINT (a person at a terminal) skips the drain.
// A second signal exits at once; so does exceeding the whole budget.
const shutdownTimes = { drainMs: config.SHUTDOWN_DRAIN_MS, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }
closeWithGrace({ delay: shutdownBudgetMs(shutdownTimes), logger: log }, async ({ signal, err }) => {
  if (err) {
    log.error({ err }, 'fatal error; shutting down')
    platform.ctx.errors.report(err, { fatal: 'true', process: 'api' })
  } else log.info({ signal }, 'shutting down')
  const drainMs = signal === 'SIGTERM' ? shutdownTimes.drainMs : 0
  await shutDownGracefully(app, { ...shutdownTimes, drainMs }, log)
})

await app.listen({ host: config.HOST, port: config.PORT })
log.info(
  { database: platform.ctx.database.kind, cache: platform.ctx.cache.kind, authDev: config.AUTH_DEV },
  'inkwell API ready',
)
