import { loadConfigOrExit } from './config/index.ts'

/**
 * The worker process consumes queued jobs from Redis. In the embedded default the
 * API runs the same jobs in-process, so there is nothing for a worker to do.
 */
const { config } = loadConfigOrExit()
if (!config.REDIS_URL) {
  process.stderr.write(
    'inkwell worker: REDIS_URL is not set. Without Redis, `npm start` runs every background job in-process; a separate worker has nothing to consume.\n',
  )
  process.exit(78)
}
process.stderr.write(
  'inkwell worker: queue-backed workers are not available in this release; jobs run inside the API process.\n',
)
process.exit(78)
