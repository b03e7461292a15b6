import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { Database } from '../db/database.ts'

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { shuttingDown: boolean }
  }
}

const CHECK_TIMEOUT_MS = 1000

async function timed(
  check: () => Promise<void>,
): Promise<{ status: 'ok' | 'failed'; latencyMs: number; error?: string }> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        )
      }),
    ])
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) }
  } catch (err) {
    return {
      status: 'failed',
      latencyMs: Math.round(performance.now() - started),
      error: (err as Error).message,
    }
  } finally {
    clearTimeout(timer)
  }
}

const Check = Type.Object({
  status: Type.String(),
  latencyMs: Type.Integer(),
  error: Type.Optional(Type.String()),
})

/** Liveness (the process serves) and readiness (it can do useful work). */
export const healthPlugin = fp<{ database: Database }>(
  async (app: FastifyInstance, { database }) => {
    app.decorate('lifecycle', { shuttingDown: false })

    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness',
          response: { 200: Type.Object({ status: Type.String() }) },
        },
      },
      async () => ({ status: 'ok' }),
    )

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'Readiness: the database answers and the process is not shutting down',
          response: {
            '2xx': Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
            503: Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Check) }),
          },
        },
      },
      async (_request, reply) => {
        const checks = { database: await timed(() => database.ping()) }
        const ready = !app.lifecycle.shuttingDown && checks.database.status === 'ok'
        reply.code(ready ? 200 : 503)
        return {
          status: ready ? 'ready' : app.lifecycle.shuttingDown ? 'shutting_down' : 'not_ready',
          checks,
        }
      },
    )
  },
  { name: 'inkwell-health' },
)
