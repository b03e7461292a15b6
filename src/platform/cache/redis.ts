import { EventEmitter } from 'node:events'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'

/**
 * One Redis connection with its health made observable. ioredis reconnects on its
 * own (backoff capped at 2 s); `enableOfflineQueue: false` makes every command fail
 * at once while disconnected, so callers fall back instead of queueing behind a
 * reconnect. `up` flips on 'ready' and off on 'close', logged once per transition.
 */
export interface RedisLink extends EventEmitter<{ up: []; down: [] }> {
  readonly client: Redis
  readonly up: boolean
  /** A second connection in subscriber mode (pub/sub needs its own), same options. */
  subscriber(): RedisLink
  close(): Promise<void>
}

export function connectRedis(url: string, keyPrefix: string, log: Logger, role = 'commands'): RedisLink {
  const client = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  })
  const link = new EventEmitter() as RedisLink & { up: boolean }
  let up = false
  let closing = false
  let lastErrorLog = 0
  client.on('ready', () => {
    if (up) return
    up = true
    log.info({ role }, 'redis connected; cache and rate limits use it')
    link.emit('up')
  })
  client.on('close', () => {
    if (!up) return
    up = false
    if (closing) return
    log.warn({ role }, 'redis connection lost; cache bypassed, rate limits local until it returns')
    link.emit('down')
  })
  client.on('error', (err) => {
    const now = Date.now()
    if (now - lastErrorLog < 10_000) return
    lastErrorLog = now
    log.warn({ err, role }, 'redis unavailable')
  })
  Object.defineProperties(link, {
    client: { value: client },
    up: { get: () => up },
  })
  link.subscriber = () => connectRedis(url, keyPrefix, log, 'subscriber')
  link.close = async () => {
    closing = true
    await client.quit().catch(() => client.disconnect())
  }
  return link
}
