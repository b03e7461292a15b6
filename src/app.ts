import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { trustedProxies } from './config/network.ts'
import { registerJobs } from './jobs.ts'
import { auditPlugin, auditRoutes } from './modules/audit/index.ts'
import { likeRoutes } from './modules/likes/index.ts'
import { ensureProfile, meRoutes, profileRoutes } from './modules/profiles/index.ts'
import { authorStoryRoutes, storyRoutes } from './modules/stories/index.ts'
import { trendingRoutes } from './modules/trending/index.ts'
import { authPlugin } from './platform/auth/plugin.ts'
import type { Platform } from './platform/create-context.ts'
import { resolveClientIpOnce } from './platform/http/client-ip.ts'
import { corsOriginPolicy, corsPlugin } from './platform/http/cors.ts'
import { deadlinePlugin } from './platform/http/deadline.ts'
import { docsRoutes, swaggerPlugin } from './platform/http/docs.ts'
import { installErrorHandlers } from './platform/http/error-handler.ts'
import { frameworkErrorHandlers } from './platform/http/framework-errors.ts'
import { healthPlugin } from './platform/http/health.ts'
import { installJsonBodyParser } from './platform/http/json-body.ts'
import { loadSheddingPlugin } from './platform/http/load-shedding.ts'
import { requestDepsPlugin } from './platform/http/request-deps.ts'
import { requestIdFrom } from './platform/http/request-id.ts'
import { reserveRouteSlot } from './platform/http/route-of.ts'
import { API_SECURITY_HEADERS, securityHeadersPlugin } from './platform/http/security-headers.ts'
import { installValidators, normalizeRequestText } from './platform/http/validation.ts'
import { httpTracingPlugin } from './platform/observability/http-tracing.ts'
import { metricsPlugin } from './platform/observability/metrics.ts'
import { deferredChildLogger } from './platform/observability/request-logger.ts'
import { rateLimitPlugin } from './platform/ratelimit/plugin.ts'

/** Builds the HTTP API on an opened platform; one file shows every mounted prefix. */
export async function buildApp(platform: Platform): Promise<FastifyInstance> {
  const { ctx, auth } = platform
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    genReqId: requestIdFrom,
    // One access line per request is written by the metrics plugin instead.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made only when a request writes a line (request-logger.ts).
    childLoggerFactory: deferredChildLogger,
    bodyLimit: ctx.config.BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(ctx.config),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Headers and request bodies must arrive promptly; a slow client cannot hold a socket forever.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    // Once closing, a request still arriving on an open connection is served (with
    // Connection: close) rather than refused: the load balancer already routes elsewhere.
    return503OnClosing: false,
    ...frameworkErrorHandlers(API_SECURITY_HEADERS, ctx.log),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('ctx', ctx)
  registerJobs(ctx)
  installJsonBodyParser(app)
  installValidators(app)
  installErrorHandlers(app)
  reserveRouteSlot(app)
  // First of the onRequest hooks, so every later reader gets the resolved address.
  if (trustedProxies(ctx.config)) resolveClientIpOnce(app)
  app.addHook('preValidation', normalizeRequestText)

  await app.register(securityHeadersPlugin, { headers: API_SECURITY_HEADERS })
  await app.register(corsPlugin, {
    origin: corsOriginPolicy(ctx.config),
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'if-match',
      'if-none-match',
      'idempotency-key',
      'x-request-id',
    ],
    exposedHeaders: [
      'location',
      'etag',
      'x-request-id',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
    ],
    maxAge: 600,
  })
  // Before any route, so that every route (/metrics included) is in the OpenAPI document.
  await app.register(swaggerPlugin)
  await app.register(metricsPlugin, { extra: platform.metrics })
  // Before authentication, whose profile lookup is one of the request's statements.
  await app.register(httpTracingPlugin, { tracing: ctx.tracing })
  await app.register(deadlinePlugin, { timeoutMs: ctx.config.REQUEST_TIMEOUT_MS })
  await app.register(requestDepsPlugin)
  await app.register(loadSheddingPlugin, { settings: ctx.config })
  await app.register(healthPlugin, { database: ctx.database, cache: ctx.cache, config: ctx.config })
  // Before authentication, so a refused token is recorded with its request's source.
  await app.register(auditPlugin)
  // The per-IP limit's onRequest hook must run before authentication's (JWT verification).
  await app.register(rateLimitPlugin, {
    settings: ctx.config,
    redis: platform.redis,
    // Story creation is the spam path: it gets the tight `expensive` class.
    expensiveRoutes: ['POST /v1/stories/'],
    exemptRoutes: ['/healthz', '/readyz', '/metrics'],
    // 429s reach the audit log through the audit plugin's own onResponse hook.
  })
  await app.register(authPlugin, {
    auth,
    resolveProfile: (identity, request) => ensureProfile(request.deps, identity),
  })

  if (auth.devJwks) {
    const jwks = auth.devJwks
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags: ['development'],
          summary: "The development identity provider's public keys (AUTH_DEV only)",
          response: { 200: { type: 'object', additionalProperties: true, description: 'A JWK set' } },
        },
      },
      async () => jwks,
    )
  }
  await app.register(meRoutes, { prefix: '/v1/me' })
  await app.register(profileRoutes, { prefix: '/v1/profiles' })
  await app.register(authorStoryRoutes, { prefix: '/v1/profiles' })
  await app.register(storyRoutes, { prefix: '/v1/stories' })
  await app.register(likeRoutes, { prefix: '/v1/stories' })
  await app.register(trendingRoutes, { prefix: '/v1/trending' })
  await app.register(auditRoutes, { prefix: '/v1/admin' })
  await app.register(docsRoutes)

  app.addHook('onReady', async () => ctx.jobs.start())
  app.addHook('onClose', async () => platform.close())
  return app
}
