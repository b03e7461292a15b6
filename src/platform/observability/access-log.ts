import pino, { type Logger } from 'pino'

/** One request as the access log records it. */
export interface AccessEntry {
  reqId: string
  method: string
  /** The route template (never the raw URL), or `unmatched`. */
  route: string
  /** The request path without its query string (which may hold personal data). */
  path: string
  status: number
  durationMs: number
  ip: string
}

type PinoInternals = Record<symbol, unknown>

/** A number as JSON: NaN and infinities (which JSON has no form for) as null. */
const finiteOrNull = (n: number): number | null => (Number.isFinite(n) ? n : null)

/**
 * The access log: one line per request, in the same JSON shape, on the same
 * destination and with the same bindings as `logger`'s own lines (level label, ISO
 * time, pid, hostname; see logger.ts), written at `info`.
 *
 * The line is built here rather than by `logger.info(fields)`: its fields are fixed and
 * hold no secret, so it needs neither pino's generic serializer nor redaction, and at
 * one line per request those cost about a fifth of a cached read's CPU. Strings go
 * through JSON.stringify, so a path with quotes or control characters stays one valid
 * JSON line.
 */
export function accessLogger(logger: Logger): (entry: AccessEntry) => void {
  const internals = logger as unknown as PinoInternals
  const stream = internals[pino.symbols.streamSym] as pino.DestinationStream
  // `,"pid":…,"hostname":"…"` and the logger's child bindings, already serialized.
  const bindings = internals[pino.symbols.chindingsSym] as string
  return (entry) => {
    if (!logger.isLevelEnabled('info')) return
    stream.write(
      `{"level":"info","time":"${new Date().toISOString()}"${bindings},"reqId":${JSON.stringify(entry.reqId)},"method":${JSON.stringify(entry.method)},"route":${JSON.stringify(entry.route)},"path":${JSON.stringify(entry.path)},"status":${entry.status},"durationMs":${finiteOrNull(entry.durationMs)},"ip":${JSON.stringify(entry.ip)},"msg":"request completed"}\n`,
    )
  }
}
