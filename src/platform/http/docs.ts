import swagger from '@fastify/swagger'
import scalar from '@scalar/fastify-api-reference'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { helmetHeaders } from './security-headers.ts'

/** The API reference page needs inline scripts and styles; only its own routes get this CSP. */
const DOCS_CSP = helmetHeaders({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'https:'],
      fontSrc: ["'self'", 'data:', 'https:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
})['content-security-policy']!

/** Collects every route schema into OpenAPI 3, served at /openapi.json and browsable at /docs. */
export const swaggerPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Inkwell API',
          version: '1.0.0',
          description:
            'Write, publish, like and read stories. Errors are RFC 9457 problem+json with a stable `code`.',
        },
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
      },
    })
  },
  { name: 'inkwell-openapi' },
)

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(async (child) => {
    // After the application-wide security headers (a child's hooks run after its parent's).
    child.addHook('onRequest', (_request, reply, done) => {
      reply.header('content-security-policy', DOCS_CSP)
      done()
    })
    await child.register(scalar, { routePrefix: '/docs', configuration: { url: '/openapi.json' } })
  })
}
