import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildApp } from './app.ts'
import { seedDemoIfEmpty } from './cli/seed.ts'
import { loadConfigOrExit } from './config/index.ts'
import { createPlatform } from './platform/create-context.ts'
import { DataDirInUseError } from './platform/db/data-dir-lock.ts'
import { loggerOptions } from './platform/observability/logger.ts'

const { config } = loadConfigOrExit()
const log = pino(loggerOptions(config.LOG_LEVEL))

let platform: Awaited<ReturnType<typeof createPlatform>>
try {
  platform = await createPlatform(config, log)
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

// SIGTERM/SIGINT: stop accepting, let in-flight requests finish, flush and close
// pools, exit 0. A second signal, or SHUTDOWN_TIMEOUT_MS passing, exits at once.
closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger: log }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'fatal error; shutting down')
  else log.info({ signal }, 'shutting down')
  app.lifecycle.shuttingDown = true
  await app.close()
})

await app.listen({ host: config.HOST, port: config.PORT })
log.info(
  { database: platform.ctx.database.kind, cache: platform.ctx.cache.kind, authDev: config.AUTH_DEV },
  'inkwell API ready',
)
