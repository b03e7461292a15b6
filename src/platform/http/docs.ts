import swagger from '@fastify/swagger'
import scalar from '@scalar/fastify-api-reference'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { helmetHeaders } from './security-headers.ts'

/**
 * The API reference is an HTML page: its routes get helmet's full set for documents, with
 * a CSP that allows the page's inline scripts and styles (and only on its own routes).
 */
const DOCS_HEADERS = helmetHeaders({
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
})

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
      transformObject: (document) =>
        withProblemMediaType(withDocsPage((document as { openapiObject: OpenApi }).openapiObject)),
    })
  },
  { name: 'inkwell-openapi' },
)

type OpenApi = Record<string, unknown> & { paths?: Record<string, Record<string, Operation>> }
type Operation = { responses?: Record<string, { content?: Record<string, unknown> }> }

/** Error responses are RFC 9457 documents: say so, rather than Fastify's `application/json`. */
function withProblemMediaType(doc: OpenApi): OpenApi {
  for (const operations of Object.values(doc.paths ?? {}))
    for (const operation of Object.values(operations))
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const json = response.content?.['application/json']
        if (!/^[45]/.test(status) || json === undefined) continue
        response.content = { 'application/problem+json': json }
      }
  return doc
}

/** The reference page is the Scalar plugin's route, which it keeps out of the document. */
function withDocsPage(doc: OpenApi): OpenApi {
  doc.paths ??= {}
  doc.paths['/docs'] = {
    get: {
      tags: ['operations'],
      summary: 'This API reference, browsable (HTML)',
      responses: {
        200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
      },
    },
  } as Record<string, Operation>
  return doc
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['operations'],
        summary: 'This OpenAPI 3.1 document',
        response: { 200: { type: 'object', additionalProperties: true, description: 'OpenAPI 3.1' } },
      },
    },
    async () => app.swagger(),
  )
  await app.register(async (child) => {
    // After the application-wide security headers (a child's hooks run after its parent's).
    child.addHook('onRequest', (_request, reply, done) => {
      reply.headers(DOCS_HEADERS)
      done()
    })
    await child.register(scalar, { routePrefix: '/docs', configuration: { url: '/openapi.json' } })
  })
}
