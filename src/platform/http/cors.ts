import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { listSetting } from '../../config/network.ts'
import type { Config } from '../../config/schema.ts'

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

type Hook = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void

/**
 * @fastify/cors, with its per-request work kept to the requests it concerns: those that
 * carry an `Origin` (browsers send one on every cross-origin request and preflight).
 * For the rest, which are most requests (servers, apps, probes), its hook resolves
 * the route's options twice and copies them, about 5% of a cached read's instructions,
 * to add `Vary: Origin` and nothing else; here they get that header alone.
 */
export const corsPlugin = fp<FastifyCorsOptions>(
  (app, options, next) => {
    const onlyWithOrigin = (hook: Hook): Hook =>
      function (this: FastifyInstance, request, reply, done) {
        if (request.headers.origin !== undefined) hook.call(this, request, reply, done)
        else {
          reply.header('vary', 'Origin')
          done()
        }
      }
    const gated = new Proxy(app, {
      get(target, key) {
        if (key === 'addHook')
          return (name: string, hook: Hook) =>
            target.addHook(name as 'onRequest', name === 'onRequest' ? onlyWithOrigin(hook) : hook)
        const value: unknown = Reflect.get(target, key, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    ;(cors as unknown as FastifyPluginCallback<FastifyCorsOptions>)(gated, options, next)
  },
  { name: 'inkwell-cors' },
)
