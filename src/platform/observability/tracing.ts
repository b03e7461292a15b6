import { tracingChannel } from 'node:diagnostics_channel'
import type { IncomingHttpHeaders } from 'node:http'
import {
  type Attributes,
  DiagLogLevel,
  defaultTextMapGetter,
  diag,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import type { Logger } from 'pino'
import { currentScope } from '../request-scope.ts'

export type { Span }

export interface TracingSettings {
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined
  OTEL_SERVICE_NAME: string
  OTEL_TRACES_SAMPLER_ARG: number
  NODE_ENV: string
}

/**
 * OpenTelemetry traces, exported over OTLP/HTTP when an endpoint is set. Spans are
 * parented explicitly (the server span travels in the request scope, see
 * request-scope.ts), so no global context manager and no second AsyncLocalStorage is
 * installed, and with tracing off nothing is created at all.
 */
export interface Tracing {
  readonly enabled: boolean
  /** A request's span: a child of the caller's W3C `traceparent`, or a new trace. */
  startServer(name: string, headers: IncomingHttpHeaders, attributes: Attributes): Span | undefined
  /** A child of `parent`; none without a parent (statements outside a traced request). */
  startChild(parent: Span | undefined, name: string, kind: SpanKind, attributes: Attributes): Span | undefined
  /** A span that starts a trace of its own (a job run). */
  startRoot(name: string, kind: SpanKind, attributes: Attributes): Span | undefined
  /** Sends what is queued, waiting at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>
  shutdown(): Promise<void>
}

/** Ends `span`, marked failed with `error`'s class (never its message, which may hold data). */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return
  if (error !== undefined && error !== null) {
    const type = error instanceof Error ? error.constructor.name : typeof error
    const code = (error as { code?: unknown }).code
    span.setAttribute('error.type', typeof code === 'string' ? code : type)
    span.setStatus({ code: SpanStatusCode.ERROR })
  }
  span.end()
}

/** Tracing off: nothing is created. */
export const tracingOff: Tracing = {
  enabled: false,
  startServer: () => undefined,
  startChild: () => undefined,
  startRoot: () => undefined,
  flush: async () => {},
  shutdown: async () => {},
}

/** `name=value,name2=value2` (OTEL_EXPORTER_OTLP_HEADERS' format) as a header object. */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at > 0)
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return headers
}

/** `work`, or nothing after `ms`; its failure is the SDK's to log (diag), not the caller's. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  return Promise.race([
    work.then(
      () => {},
      () => {},
    ),
    new Promise<void>((done) => setTimeout(done, ms).unref()),
  ])
}

interface RedisCommandContext {
  command: string
  span?: Span | undefined
}

/**
 * ioredis (6+) announces each command on the `ioredis:command` tracing channel; a
 * command that `start` gives a span ends it with its reply. Subscribed only while
 * tracing is on: with a subscriber, ioredis wraps every command of the process.
 */
function traceRedisCommands(start: (command: string) => Span | undefined): () => void {
  const channel = tracingChannel<string, RedisCommandContext>('ioredis:command')
  const handlers = {
    start(context: RedisCommandContext) {
      context.span = start(context.command.toUpperCase())
    },
    end() {},
    asyncStart() {},
    asyncEnd(context: RedisCommandContext) {
      endSpan(context.span)
    },
    error(context: RedisCommandContext & { error?: unknown }) {
      endSpan(context.span, context.error ?? new Error('redis command failed'))
      context.span = undefined
    },
  }
  channel.subscribe(handlers)
  return () => channel.unsubscribe(handlers)
}

export function createTracing(settings: TracingSettings, log: Logger, role: 'api' | 'worker'): Tracing {
  const url = settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  if (!url) return tracingOff
  // The SDK's own complaints (an unreachable collector, a full queue) as warnings.
  diag.setLogger(
    {
      error: (message, ...args) => log.warn({ args }, `tracing: ${message}`),
      warn: (message, ...args) => log.warn({ args }, `tracing: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    // Each platform a test process opens sets it again; that is not worth a warning.
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  )
  const exporter = new OTLPTraceExporter({
    url,
    headers: parseOtlpHeaders(settings.OTEL_EXPORTER_OTLP_HEADERS),
    timeoutMillis: 5000,
  })
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': role === 'worker' ? `${settings.OTEL_SERVICE_NAME}-worker` : settings.OTEL_SERVICE_NAME,
      'deployment.environment.name': settings.NODE_ENV,
    }),
    // A caller that sampled its trace gets our spans in it, one that did not gets none. New
    // traces reach the SDK only once startServer has sampled them (below), at the ratio.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    // Bounded: a collector that is down or slow drops spans, never holds memory or requests.
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 4096,
        scheduledDelayMillis: 2000,
        exportTimeoutMillis: 5000,
      }),
    ],
  })
  const tracer: Tracer = provider.getTracer('inkwell')
  const ratio = settings.OTEL_TRACES_SAMPLER_ARG
  const propagator = new W3CTraceContextPropagator()
  // This instance's server spans: Redis commands (below) are seen process-wide.
  const servers = new WeakSet<Span>()
  const startChild: Tracing['startChild'] = (parent, name, kind, attributes) => {
    if (!parent?.isRecording()) return undefined
    return tracer.startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, parent))
  }
  const stopRedisSpans = traceRedisCommands((command) => {
    const parent = currentScope()?.request?.traceSpan
    if (!parent || !servers.has(parent)) return undefined
    // The command only: its keys and values hold ids and content.
    return startChild(parent, command, SpanKind.CLIENT, {
      'db.system.name': 'redis',
      'db.operation.name': command,
    })
  })
  return {
    enabled: true,
    startServer(name, headers, attributes) {
      const parent =
        headers.traceparent === undefined
          ? ROOT_CONTEXT
          : propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)
      // A new trace (no caller, or a traceparent that does not parse) is sampled here,
      // before the SDK makes ids and a span that would not be recorded: about 6 µs a
      // request that the 95 % it skips by default no longer pay.
      if (trace.getSpanContext(parent) === undefined && !(Math.random() < ratio)) return undefined
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent)
      if (span.isRecording()) servers.add(span)
      return span
    },
    startChild,
    startRoot(name, kind, attributes) {
      // A new trace, sampled at the ratio like a request without a caller.
      if (!(Math.random() < ratio)) return undefined
      return tracer.startSpan(name, { kind, attributes, root: true })
    },
    // Bounded waits: a collector that is down must not hold up a shutdown.
    flush: (timeoutMs) => within(provider.forceFlush(), timeoutMs),
    shutdown: () => {
      stopRedisSpans()
      return within(provider.shutdown(), 2000)
    },
  }
}
