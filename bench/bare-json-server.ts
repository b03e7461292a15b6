// The baseline of the `cache` scenario: a bare Fastify route answering a fixed JSON
// body (a story response captured from Inkwell, so the same size), with nothing else:
// no auth, limits, validation, logging or hooks. Started by bench/cache.ts.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const body = JSON.parse(readFileSync(process.env.BENCH_BODY_FILE!, 'utf8')) as object
const app = Fastify()
// Serialized per request, as a handler returning an object is.
app.get('/stories/:id', async () => body)
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(
  `bare server listening at http://127.0.0.1:${(app.server.address() as { port: number }).port}\n`,
)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
