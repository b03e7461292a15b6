import { after } from 'node:test'
import { listen, sendJson } from '../config/support/http.ts'

export interface ExportedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  status?: { code?: number }
  attributes: Record<string, string | number | boolean>
  service: string
}

type OtlpValue = {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}
type OtlpAttribute = { key: string; value: OtlpValue }

const plainValue = (v: OtlpValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue ?? ''))
const attributes = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, plainValue(a.value)])) as ExportedSpan['attributes']

/** An OpenTelemetry collector's OTLP/HTTP (JSON) traces receiver on loopback: keeps every span. */
export async function otlpStandIn() {
  const spans: ExportedSpan[] = []
  const raw: string[] = []
  const server = await listen((_req, body, res) => {
    raw.push(body)
    const payload = JSON.parse(body) as {
      resourceSpans: Array<{
        resource: { attributes: OtlpAttribute[] }
        scopeSpans: Array<{
          spans: Array<Omit<ExportedSpan, 'attributes' | 'service'> & { attributes: OtlpAttribute[] }>
        }>
      }>
    }
    for (const rs of payload.resourceSpans) {
      const service = String(attributes(rs.resource.attributes)['service.name'])
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) spans.push({ ...span, attributes: attributes(span.attributes), service })
    }
    sendJson(res, 200, {})
  })
  after(() => server.close())
  return { endpoint: `${server.url}/v1/traces`, spans, raw }
}
