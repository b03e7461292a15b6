import { setTimeout as delay } from 'node:timers/promises'
import { Counter, Gauge } from 'prom-client'
import type { SecretsProvider } from './provider.ts'

/** The logging the store needs; pino's Logger fits. */
export interface StoreLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface SecretStoreOptions {
  provider: SecretsProvider
  /** Settings to resolve through the provider. */
  names: readonly string[]
  ttlMs: number
  startupAttempts: number
  log?: StoreLog
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

/** The provider could not be reached at startup within the allowed attempts. */
export class SecretsUnavailableError extends Error {
  constructor(
    readonly provider: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `secrets provider "${provider}" unavailable after ${attempts} attempt(s): ${(cause as Error).message}`,
      { cause },
    )
    this.name = 'SecretsUnavailableError'
  }
}

/** Startup backoff: 250 ms, 500 ms, 1 s, … capped at 5 s. */
export const startupDelayMs = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), 5000)

const stderrLog: StoreLog = {
  info: () => {},
  warn: (obj, msg) => process.stderr.write(`warning: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`error: ${msg} ${JSON.stringify(obj)}\n`),
}

/**
 * Secrets from the provider, cached for `ttlMs`. A read after the TTL refetches (one
 * fetch however many readers wait); a background timer refetches every TTL too. A
 * failed refresh keeps the last good values, logs and counts it: an outage of the
 * secrets manager must not take down a running service.
 */
export class SecretStore {
  readonly refreshFailures: Counter<'provider'>
  readonly lastSuccess: Gauge<'provider'>
  private values: Record<string, string> = {}
  private fetchedAt = Number.NEGATIVE_INFINITY
  /** After a failed refresh, reads keep the last values without retrying until then. */
  private retryAfter = Number.NEGATIVE_INFINITY
  private inflight: Promise<boolean> | undefined
  private timer: NodeJS.Timeout | undefined
  private log: StoreLog
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>

  constructor(private readonly options: SecretStoreOptions) {
    this.log = options.log ?? stderrLog
    this.now = options.now ?? Date.now
    this.sleep = options.sleep ?? ((ms) => delay(ms))
    // Not registered anywhere yet: the app adds them to its own registry (see metrics()).
    this.refreshFailures = new Counter({
      name: 'inkwell_secrets_refresh_failures_total',
      help: 'Secrets provider refreshes that failed (the last good values stayed in use)',
      labelNames: ['provider'],
      registers: [],
    })
    this.lastSuccess = new Gauge({
      name: 'inkwell_secrets_last_success_timestamp_seconds',
      help: 'When the secrets provider last answered',
      labelNames: ['provider'],
      registers: [],
    })
    this.refreshFailures.inc({ provider: this.kind }, 0)
  }

  get kind() {
    return this.options.provider.kind
  }

  /** The metrics to add to the app's registry. */
  metrics() {
    return [this.refreshFailures, this.lastSuccess]
  }

  /** First fetch, with bounded retries and backoff; throws SecretsUnavailableError. */
  async load(): Promise<void> {
    const attempts = this.options.startupAttempts
    for (let attempt = 1; ; attempt++) {
      try {
        this.accept(await this.options.provider.fetch(this.options.names))
        return
      } catch (err) {
        if (attempt >= attempts) throw new SecretsUnavailableError(this.kind, attempt, err)
        const waitMs = startupDelayMs(attempt)
        this.log.warn(
          { provider: this.kind, attempt, attempts, waitMs, reason: (err as Error).message },
          'secrets provider unavailable at startup; retrying',
        )
        await this.sleep(waitMs)
      }
    }
  }

  /** The values as last fetched (no refresh). */
  snapshot(): Readonly<Record<string, string>> {
    return { ...this.values }
  }

  /** A value, refetched first when older than the TTL. Never throws once loaded. */
  async get(name: string): Promise<string | undefined> {
    const now = this.now()
    if (now - this.fetchedAt >= this.options.ttlMs && now >= this.retryAfter) await this.refresh()
    return this.values[name]
  }

  /** Fetches now (joining a fetch already under way); false when the provider failed. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async fetchOnce(): Promise<boolean> {
    try {
      this.accept(await this.options.provider.fetch(this.options.names))
      return true
    } catch (err) {
      this.refreshFailures.inc({ provider: this.kind })
      // Readers must not each wait on a provider that is down: retry after a pause.
      this.retryAfter = this.now() + Math.min(this.options.ttlMs, 30_000)
      this.log.error(
        { provider: this.kind, reason: (err as Error).message },
        'secrets refresh failed; keeping the last good values',
      )
      return false
    }
  }

  private accept(values: Record<string, string>) {
    const changed = Object.keys({ ...this.values, ...values }).filter((k) => this.values[k] !== values[k])
    if (this.fetchedAt !== Number.NEGATIVE_INFINITY && changed.length > 0)
      this.log.info({ provider: this.kind, settings: changed }, 'secrets rotated')
    this.values = values
    this.fetchedAt = this.now()
    this.lastSuccess.set({ provider: this.kind }, this.fetchedAt / 1000)
  }

  /** Refreshes every TTL in the background, logging to `log` from now on. */
  startRefresh(log?: StoreLog): void {
    if (log) this.log = log
    if (this.timer || this.kind === 'env') return
    this.timer = setInterval(() => void this.refresh(), this.options.ttlMs)
    this.timer.unref()
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.options.provider.close()
  }
}
