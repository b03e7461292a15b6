import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers helmet sets for `options`. Without CSP nonces (Inkwell uses none) they are
 * the same for every request, so helmet runs once here rather than once per request
 * (@fastify/helmet's way, about 6% of a cached read's CPU).
 */
export function helmetHeaders(options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  let failure: unknown
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failure = err
  })
  if (failure) throw failure
  return Object.freeze(headers)
}

/**
 * The API's own headers: nothing may be framed, loaded or scripted from its responses.
 * The set the OWASP REST Security Cheat Sheet gives for JSON APIs, sent on every
 * response: helmet's headers that only mean something for HTML documents in old or
 * current browsers (X-XSS-Protection, X-Download-Options, X-DNS-Prefetch-Control,
 * X-Permitted-Cross-Domain-Policies, Origin-Agent-Cluster, Cross-Origin-Opener-Policy)
 * are left off, since every header is validated and written on every response. The
 * HTML documentation page (docs.ts) sends helmet's full set.
 */
export const API_SECURITY_HEADERS = helmetHeaders({
  // Only what a JSON response needs; helmet's defaults are directives for HTML pages.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-site' },
  xFrameOptions: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
})

/**
 * Sets a fixed set of headers on a reply, from names and values laid out once in two
 * arrays: `reply.headers(object)` lists the object's keys and reads each value by a
 * computed key on every request, a megamorphic lookup (callgrind).
 */
export function headerWriter(headers: Readonly<Record<string, string>>): (reply: FastifyReply) => void {
  const names = Object.keys(headers)
  const values = Object.values(headers)
  return (reply) => {
    for (let i = 0; i < names.length; i++) reply.header(names[i]!, values[i])
  }
}

/**
 * Security headers and the request id on every response, 404s and errors included, in
 * one hook (each hook is a call per request).
 */
export const securityHeadersPlugin = fp<{ headers: Readonly<Record<string, string>> }>(
  async (app: FastifyInstance, { headers }) => {
    const writeHeaders = headerWriter(headers)
    app.addHook('onRequest', (request, reply, done) => {
      writeHeaders(reply)
      reply.header('x-request-id', request.id)
      done()
    })
  },
  { name: 'inkwell-security-headers' },
)
