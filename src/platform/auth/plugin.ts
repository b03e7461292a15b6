import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../http/errors.ts'
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
    requireUser: preHandlerAsyncHookHandler
    requireAdmin: preHandlerAsyncHookHandler
  }
}

export interface AuthPluginOptions {
  auth: AuthSetup
  /** Maps a verified identity to its profile, creating it on first sight. */
  resolveProfile: (identity: Identity) => Promise<{ id: string }>
}

// Everything after the scheme is taken as the token, so a malformed one is an
// invalid_token (RFC 6750 §3.1) from the verifier, not a header format error.
const BEARER = /^Bearer +(.+)$/i

function bearerToken(request: FastifyRequest, metrics: AuthObserver): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const match = BEARER.exec(header.trim())
  if (!match) {
    metrics.verified('invalid_token', false)
    throw malformedAuthorization()
  }
  return match[1]!
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
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request, metrics)
      if (token === null) return
      const identity = await auth.verify(token)
      const profile = await resolveProfile(identity)
      request.principal = { ...identity, profileId: profile.id }
    })
    app.decorate('requireUser', async (request: FastifyRequest) => {
      if (!request.principal) throw unauthenticated()
    })
    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      if (!request.principal) throw unauthenticated()
      if (!request.principal.isAdmin) throw new AppError('forbidden', 'This endpoint is for administrators')
    })
    // Fetch the keys before the first request needs them; a failure here is logged, not fatal.
    app.addHook('onReady', async () => {
      void auth.keys.warm()
    })
    app.addHook('onClose', async () => auth.keys.close())
  },
  { name: 'inkwell-auth', dependencies: ['inkwell-metrics'] },
)
