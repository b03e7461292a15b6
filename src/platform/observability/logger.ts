import pino, { type Logger, type LoggerOptions } from 'pino'
import { secretSettingNames } from '../../config/settings.ts'
import { isoTime } from '../iso-time.ts'

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  // Every setting the schema marks secret (SECRET_KEY, DATABASE_URL, REDIS_URL, …).
  ...secretSettingNames.map((name) => `*.${name}`),
]

let lastMs = Number.NaN
let lastIso = ''

/**
 * The current time as ISO 8601, formatted once per millisecond (iso-time.ts): under load
 * a dozen log lines (access lines mostly) share each ms.
 */
export function isoNow(): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = isoTime(new Date(ms))
  }
  return lastIso
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${isoNow()}"`,
    formatters: { level: (label) => ({ level: label }) },
  }
}

/**
 * The service's logger, on stdout, written synchronously: a line is in the kernel when
 * the call returns, and a stdout reader that falls behind slows the service down
 * (backpressure) instead of growing its memory. The access log, one line per request,
 * is batched per event-loop turn (access-log.ts), so under load it costs one `write` per
 * turn, not one per request; a SIGKILL can lose only the current turn's access lines.
 *
 * Not asynchronous, though it was: each write went through the libuv thread pool, a
 * third thread waking on a 2-core machine already running the server and its clients,
 * and the lines waiting behind a write in flight outlived two scavenges and were
 * promoted (about 240 KB per scavenge on the cached read, a full collection every 20 s;
 * with synchronous writes 2 KB). docs/operations.md, "Logs", has the figures.
 */
export function createLogger(level: string): Logger {
  return pino(loggerOptions(level), pino.destination({ dest: 1, sync: true }))
}
