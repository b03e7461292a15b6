import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { listSetting } from '../../config/network.ts'
import type { Config } from '../../config/schema.ts'
import { registerGated } from './gated-plugin.ts'

const LOCALHOST_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/

/** CORS_ORIGINS only; development also admits any localhost origin. */
export function corsOriginPolicy(config: Readonly<Config>) {
  const allowed = new Set(listSetting(config.CORS_ORIGINS))
  const allowLocalhost = config.NODE_ENV !== 'production'
  return (origin: string | undefined, callback: (err: Error | null, allow: boolean) => void) => {
    callback(
      null,
      origin !== undefined && (allowed.has(origin) || (allowLocalhost && LOCALHOST_ORIGIN.test(origin))),
    )
  }
}

/**
 * @fastify/cors, with its per-request work kept to the requests it concerns: those that
 * carry an `Origin` (browsers send one on every cross-origin request and preflight).
 * For the rest, which are most requests (servers, apps, probes), its hook resolves
 * the route's options twice and copies them, about 5% of a cached read's instructions,
 * to add `Vary: Origin` and nothing else; here they get that header alone.
 */
export const corsPlugin = fp<FastifyCorsOptions>(
  async (app, options) => {
    const withOrigin = (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers.origin !== undefined) return true
      reply.header('vary', 'Origin')
      return false
    }
    await registerGated(
      app,
      cors as unknown as FastifyPluginCallback<FastifyCorsOptions>,
      options,
      withOrigin,
    )
  },
  { name: 'inkwell-cors' },
)
