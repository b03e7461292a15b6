// The baseline of the `cache` scenario: a bare Fastify route answering a fixed JSON
// body (a story response captured from Inkwell, so the same size), with nothing else:
// no auth, limits, validation, logging or hooks. Started by bench/cache.ts.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { serve } from './serve.ts'

const body = JSON.parse(readFileSync(process.env.BENCH_BODY_FILE!, 'utf8')) as object
const app = Fastify()
// Serialized per request, as a handler returning an object is.
app.get('/stories/:id', async () => body)
await serve(app, 'bare server')
