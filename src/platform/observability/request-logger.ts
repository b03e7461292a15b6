import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilent } from 'pino'

type LogMethod = FastifyBaseLogger['info']
type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>

const isLevelEnabled = (logger: FastifyBaseLogger, level: Level): boolean =>
  (logger as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level)

/**
 * `request.log`, made only when a line is written. Fastify builds a pino child (with
 * the request id bound) for every request, about 2 µs even when the request logs
 * nothing, which is most of them: the access line has its own writer (access-log.ts).
 * Until its first enabled line this holds the parent and the bindings; from then on
 * every call goes to the real child.
 */
class DeferredChildLogger {
  #child: FastifyBaseLogger | undefined
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent
    this.#bindings = bindings
  }

  #made(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings)
    return this.#child
  }

  #write(level: Level, args: Parameters<LogMethod>): void {
    // Nothing to write at this level yet: no child is made for it.
    if (this.#child === undefined && !isLevelEnabled(this.#parent, level)) return
    this.#made()[level](...args)
  }

  fatal(...args: Parameters<LogMethod>): void {
    this.#write('fatal', args)
  }
  error(...args: Parameters<LogMethod>): void {
    this.#write('error', args)
  }
  warn(...args: Parameters<LogMethod>): void {
    this.#write('warn', args)
  }
  info(...args: Parameters<LogMethod>): void {
    this.#write('info', args)
  }
  debug(...args: Parameters<LogMethod>): void {
    this.#write('debug', args)
  }
  trace(...args: Parameters<LogMethod>): void {
    this.#write('trace', args)
  }
  silent(): void {}

  get level(): LevelWithSilent | string {
    return (this.#child ?? this.#parent).level
  }

  set level(level: LevelWithSilent | string) {
    this.#made().level = level
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options)
  }
}

/**
 * Fastify's `childLoggerFactory`: a deferred child for plain requests; a route with
 * its own log level or serializers gets pino's child at once.
 */
export const deferredChildLogger: ChildLoggerFactory = (logger, bindings, options) =>
  options.level !== undefined || options.serializers !== undefined
    ? logger.child(bindings, options)
    : (new DeferredChildLogger(logger, bindings) as unknown as FastifyBaseLogger)
