import type { FetchOutcome } from './observer.ts'

/** Produces a JWKS document; honours `signal` (timeout and shutdown). */
export type JwksLoader = (signal: AbortSignal) => Promise<unknown>

/** A failed load with the outcome it is counted under. */
export class LoadFailure extends Error {
  override readonly name = 'LoadFailure'
  constructor(
    readonly outcome: Exclude<FetchOutcome, 'ok' | 'timeout'>,
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}

const MAX_DOCUMENT_BYTES = 512 * 1024

async function readCapped(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length')) > MAX_DOCUMENT_BYTES)
    throw new LoadFailure('invalid_response', 'document too large')
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of response.body ?? []) {
    total += chunk.length
    if (total > MAX_DOCUMENT_BYTES) throw new LoadFailure('invalid_response', 'document too large')
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function getJson(url: URL, signal: AbortSignal): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal, headers: { accept: 'application/json', 'user-agent': 'inkwell' } })
  } catch (err) {
    if (signal.aborted) throw err
    throw new LoadFailure('network_error', (err as Error).message)
  }
  if (!response.ok) {
    await response.body?.cancel()
    throw new LoadFailure('http_error', `HTTP ${response.status}`, response.status)
  }
  const text = await readCapped(response)
  try {
    return JSON.parse(text)
  } catch {
    throw new LoadFailure('invalid_response', 'body is not JSON')
  }
}

/**
 * OpenID Connect Discovery 1.0: the document must name exactly our issuer (§4.3,
 * against mix-ups), and its `jwks_uri` must not downgrade an https issuer to http.
 */
async function discoverJwksUri(issuer: string, signal: AbortSignal): Promise<URL> {
  const url = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`)
  let document: unknown
  try {
    document = await getJson(url, signal)
  } catch (err) {
    if (err instanceof LoadFailure) throw new LoadFailure('discovery_failed', `discovery: ${err.message}`)
    throw err
  }
  const { issuer: named, jwks_uri: jwksUri } = (document ?? {}) as Record<string, unknown>
  if (named !== issuer)
    throw new LoadFailure('discovery_failed', 'discovery: issuer does not match AUTH_ISSUER')
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri))
    throw new LoadFailure('discovery_failed', 'discovery: no valid jwks_uri')
  const parsed = new URL(jwksUri)
  const allowedProtocols = url.protocol === 'https:' ? ['https:'] : ['https:', 'http:']
  if (!allowedProtocols.includes(parsed.protocol))
    throw new LoadFailure('discovery_failed', 'discovery: jwks_uri must be https')
  return parsed
}

/** Loads the provider's JWKS from `jwksUrl`, or from the URL discovered from `issuer`. */
export function remoteJwksLoader(settings: { jwksUrl?: string | undefined; issuer: string }): JwksLoader {
  let discovered: URL | null = null
  return async (signal) => {
    const configured = settings.jwksUrl ? new URL(settings.jwksUrl) : null
    const url = configured ?? discovered ?? (await discoverJwksUri(settings.issuer, signal))
    try {
      const document = await getJson(url, signal)
      if (!configured) discovered = url
      return document
    } catch (err) {
      // A discovered URL that stopped answering may have moved: discover again next time.
      if (!configured) discovered = null
      throw err
    }
  }
}

/** A key set held in memory (the development IdP): the same path, with nothing to fetch. */
export function staticJwksLoader(document: unknown): JwksLoader {
  return async () => document
}
