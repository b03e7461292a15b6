import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyPluginOptions,
  FastifyReply,
  FastifyRequest,
} from 'fastify'
import { isPromise } from '../maybe-promise.ts'

type OnRequestHook = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void

/**
 * Registers a third-party plugin whose onRequest hooks run only for the requests
 * `concerns` picks; for the others, `concerns` may do the little they need itself and
 * the hooks are skipped. Used where a plugin's hook does costly per-request work
 * (@fastify/cors and @fastify/under-pressure each read `request.routeOptions`, which
 * Fastify builds anew and freezes on every read) before finding, for most requests,
 * nothing to do. The plugin is otherwise registered as it is: its routes, decorators
 * and other hooks go to `app` unchanged.
 */
export function registerGated<O extends FastifyPluginOptions>(
  app: FastifyInstance,
  plugin: FastifyPluginCallback<O>,
  options: O,
  concerns: (request: FastifyRequest, reply: FastifyReply) => boolean,
): Promise<void> {
  const gate = (hook: OnRequestHook): OnRequestHook =>
    function (this: FastifyInstance, request, reply, done) {
      if (concerns(request, reply)) hook.call(this, request, reply, done)
      else done()
    }
  const gated = new Proxy(app, {
    get(target, key) {
      if (key === 'addHook')
        return (name: string, hook: OnRequestHook) =>
          target.addHook(name as 'onRequest', name === 'onRequest' ? gate(hook) : hook)
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  // Plugins are written either way: calling back, or as async functions.
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => (err ? reject(err) : resolve())
    const result: unknown = plugin(gated, options, done)
    if (isPromise(result)) result.then(() => resolve(), reject)
  })
}
