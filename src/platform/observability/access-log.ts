import pino, { type Logger } from 'pino'
import { SlotList } from '../slot-list.ts'
import { isoNow } from './logger.ts'

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

/** Access lines waiting for the end of the event-loop turn, for one destination. */
class Batch {
  lines: string[] = []
  scheduled = false
  /** Its place in `pending`. */
  slot = -1

  constructor(readonly stream: pino.DestinationStream) {}

  add(line: string): void {
    this.lines.push(line)
    if (this.scheduled) return
    this.scheduled = true
    pending.add(this)
    setImmediate(flushBatch, this)
  }

  flush(): void {
    this.scheduled = false
    pending.delete(this)
    if (this.lines.length === 0) return
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('')
    this.lines = []
    this.stream.write(text)
  }
}

const flushBatch = (batch: Batch) => batch.flush()
// Entered and left every turn under load: a SlotList, not a Set (see slot-list.ts).
const pending = new SlotList<Batch>()
let exitHooked = false

/**
 * On exit (after a fatal error too) the lines of the current turn are written, and the
 * destination flushed synchronously: pino's own exit flush may already have run.
 */
function flushOnExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.once('exit', () => pending.forEach(flushNow, undefined))
}

function flushNow(batch: Batch): void {
  batch.flush()
  try {
    ;(batch.stream as { flushSync?: () => void }).flushSync?.()
  } catch {
    // A destination that cannot flush now (closed, or mid-write) keeps what it has.
  }
}

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
 *
 * The lines of one event-loop turn go to the destination as one write, at the end of
 * the turn: the destination is synchronous (logger.ts), so a line per write would be a
 * syscall per request, and sonic-boom measures the UTF-8 length of each write. Other
 * log lines written in the same turn may therefore come out ahead of its access lines;
 * each line keeps its own time.
 */
export function accessLogger(logger: Logger): (entry: AccessEntry) => void {
  const internals = logger as unknown as PinoInternals
  const stream = internals[pino.symbols.streamSym] as pino.DestinationStream
  // `,"pid":…,"hostname":"…"` and the logger's child bindings, already serialized.
  const bindings = internals[pino.symbols.chindingsSym] as string
  const batch = new Batch(stream)
  flushOnExit()
  return (entry) => {
    if (!logger.isLevelEnabled('info')) return
    batch.add(
      `{"level":"info","time":"${isoNow()}"${bindings},"reqId":${JSON.stringify(entry.reqId)},"method":${JSON.stringify(entry.method)},"route":${JSON.stringify(entry.route)},"path":${JSON.stringify(entry.path)},"status":${entry.status},"durationMs":${finiteOrNull(entry.durationMs)},"ip":${JSON.stringify(entry.ip)},"msg":"request completed"}\n`,
    )
  }
}
