// How the bench's own servers listen and stop.
import type { FastifyInstance } from 'fastify'

/**
 * Listens on a free loopback port and prints the "listening at" line startProcess
 * (lib.ts) waits for; on SIGTERM closes the app, then `close` (a pool), then exits.
 */
export async function serve(app: FastifyInstance, name: string, close: () => unknown = () => {}) {
  await app.listen({ host: '127.0.0.1', port: 0 })
  process.stdout.write(
    `${name} listening at http://127.0.0.1:${(app.server.address() as { port: number }).port}\n`,
  )
  process.on(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(close)
        .then(() => process.exit(0)),
  )
}
