import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../http/errors.ts'
import type { Identity, Principal } from './principal.ts'
import { type TokenVerifier, unauthenticated } from './verifier.ts'

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
  verify: TokenVerifier
  /** Maps a verified identity to its profile, creating it on first sight. */
  resolveProfile: (identity: Identity) => Promise<{ id: string }>
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const match = BEARER.exec(header.trim())
  if (!match)
    throw new AppError('invalid_token', 'The Authorization header must be "Bearer <token>"', {
      headers: { 'www-authenticate': 'Bearer realm="inkwell", error="invalid_request"' },
    })
  return match[1]!
}

/**
 * Authentication is optional everywhere and required where a route says so
 * (`preHandler: app.requireUser`). A token that is present but invalid is a 401
 * even on a public route: a client never silently becomes anonymous.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('principal', null)
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request)
      if (token === null) return
      const identity = await options.verify(token)
      const profile = await options.resolveProfile(identity)
      request.principal = { ...identity, profileId: profile.id }
    })
    app.decorate('requireUser', async (request: FastifyRequest) => {
      if (!request.principal) throw unauthenticated()
    })
    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      if (!request.principal) throw unauthenticated()
      if (!request.principal.isAdmin) throw new AppError('forbidden', 'This endpoint is for administrators')
    })
  },
  { name: 'inkwell-auth' },
)
