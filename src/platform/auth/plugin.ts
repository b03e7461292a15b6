import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../http/errors.ts'
import { isPromise, type MaybePromise } from '../maybe-promise.ts'
import { malformedAuthorization, unauthenticated } from './errors.ts'
import type { AuthSetup } from './from-config.ts'
import { createAuthMetrics } from './metrics.ts'
import type { AuthObserver } from './observer.ts'
import type { Identity, Principal } from './principal.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carried a valid token; null for anonymous requests. */
    principal: Principal | null
  }
  interface FastifyInstance {
    requireUser: preHandlerHookHandler
    requireAdmin: preHandlerHookHandler
  }
}

export interface AuthPluginOptions {
  auth: AuthSetup
  /** Maps a verified identity to its profile, creating it on first sight (under the request's deadline). */
  resolveProfile: (identity: Identity, request: FastifyRequest) => MaybePromise<{ id: string }>
}

/**
 * What follows `Bearer` and one or more spaces (the scheme in any letter case), or
 * null. Everything after the scheme is taken as the token, so a malformed one is an
 * invalid_token (RFC 6750 §3.1) from the verifier, not a header format error. Read
 * by hand: a regular expression scanned the whole token (about 0.5 µs) on every request.
 */
export function afterBearerScheme(header: string): string | null {
  const value = header.trim()
  if (value.charCodeAt(6) !== 32 || value.slice(0, 6).toLowerCase() !== 'bearer') return null
  let start = 7
  while (value.charCodeAt(start) === 32) start++
  return start < value.length ? value.slice(start) : null
}

function bearerToken(request: FastifyRequest, metrics: AuthObserver): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const token = afterBearerScheme(header)
  if (token === null) {
    metrics.verified('invalid_token', false)
    throw malformedAuthorization()
  }
  return token
}

const PRINCIPAL = Symbol('principal')

/**
 * The principal of a verified identity with its profile: one frozen object per cached
 * identity (the verifier hands back the same identity for a token it has seen), rather
 * than a copy of the identity made for every request.
 */
function principalOf(identity: Identity, profileId: string): Principal {
  const made = (identity as { [PRINCIPAL]?: Principal })[PRINCIPAL]
  if (made?.profileId === profileId) return made
  const principal = Object.freeze({ ...identity, profileId })
  Object.defineProperty(identity, PRINCIPAL, { value: principal, writable: true, configurable: true })
  return principal
}

/**
 * Authentication is optional everywhere and required where a route says so
 * (`preHandler: app.requireUser`). A token that is present but invalid is a 401
 * even on a public route: a client never silently becomes anonymous. Only a
 * verified identity reaches `resolveProfile`, so a refused token stores nothing.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, { auth, resolveProfile }) => {
    const metrics = createAuthMetrics(app.metrics, auth.keys)
    auth.observe(metrics)
    app.decorateRequest('principal', null)
    const withProfile = (request: FastifyRequest, identity: Identity): MaybePromise<void> => {
      const profile = resolveProfile(identity, request)
      if (isPromise(profile))
        return profile.then(({ id }) => {
          request.principal = principalOf(identity, id)
        })
      request.principal = principalOf(identity, profile.id)
    }
    const authenticate = (request: FastifyRequest, token: string): MaybePromise<void> => {
      const identity = auth.verify(token)
      return isPromise(identity)
        ? identity.then((id) => withProfile(request, id))
        : withProfile(request, identity)
    }
    // Callback style: a returning user's token and profile id are in memory, and the
    // hook then completes without a promise.
    app.addHook('onRequest', (request, _reply, done) => {
      let pending: MaybePromise<void>
      try {
        const token = bearerToken(request, metrics)
        pending = token === null ? undefined : authenticate(request, token)
      } catch (err) {
        done(err as Error)
        return
      }
      if (isPromise(pending)) pending.then(() => done(), done)
      else done()
    })
    app.decorate('requireUser', (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
      done(request.principal ? undefined : unauthenticated())
    })
    app.decorate('requireAdmin', (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
      if (!request.principal) done(unauthenticated())
      else if (!request.principal.isAdmin)
        done(new AppError('forbidden', 'This endpoint is for administrators'))
      else done()
    })
    // Fetch the keys before the first request needs them; a failure here is logged, not fatal.
    app.addHook('onReady', async () => {
      void auth.keys.warm()
    })
    app.addHook('onClose', async () => auth.keys.close())
  },
  { name: 'inkwell-auth', dependencies: ['inkwell-metrics'] },
)
