import type { Logger } from 'pino'
import type { RedisLink } from './redis.ts'

/** The message other instances receive: drop one key or several, or move a kind to a new generation. */
export type Invalidation =
  | { kind: string; id: string }
  | { kind: string; ids: string[] }
  | { kind: string; gen: number }

// The value is written only if the key's generation is still the one read at the miss:
// an invalidation that ran during the load (here or on another instance) wins.
const FILL_IF_CURRENT = `
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1`

// KEYS: n key-generation keys, then their n value keys. ARGV[1]: the generations' TTL.
const DROP_KEYS = `
local n = #KEYS / 2
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  redis.call('DEL', KEYS[n + i])
end
return n`

const KEY_GEN_TTL_S = 86_400

/** The Redis tier: values as JSON, per-key and per-kind generations, pub/sub invalidation. */
export class SharedTier {
  readonly #link: RedisLink
  readonly #sub: RedisLink
  readonly #channel: string
  constructor(link: RedisLink, keyPrefix: string, onMessage: (m: Invalidation) => void, log: Logger) {
    this.#link = link
    this.#channel = `${keyPrefix}cache:invalidate`
    link.client.defineCommand('inkwellFill', { numberOfKeys: 2, lua: FILL_IF_CURRENT })
    link.client.defineCommand('inkwellDropKeys', { lua: DROP_KEYS })
    this.#sub = link.subscriber()
    // Commands fail while disconnected (no offline queue), so subscribe on every 'ready'
    // rather than once; the cache is not used until the subscription is confirmed.
    this.#sub.client.on('ready', () => {
      this.#sub.client.subscribe(this.#channel).catch((err) => log.warn({ err }, 'cache subscription failed'))
    })
    this.#sub.client.on('message', (_channel: string, text: string) => {
      try {
        onMessage(JSON.parse(text) as Invalidation)
      } catch (err) {
        log.warn({ err }, 'unreadable cache invalidation message')
      }
    })
  }

  get links(): RedisLink[] {
    return [this.#link, this.#sub]
  }

  get up(): boolean {
    return this.#link.up && this.#sub.up
  }

  async read(kind: string, gen: number, id: string): Promise<{ value: string | null; keyGen: string }> {
    const [value, keyGen] = await this.#link.client.mget(valueKey(kind, gen, id), keyGenKey(kind, id))
    return { value: value ?? null, keyGen: keyGen ?? '' }
  }

  async fill(kind: string, gen: number, id: string, keyGen: string, json: string, ttlS: number) {
    const client = this.#link.client as unknown as {
      inkwellFill(k1: string, k2: string, gen: string, value: string, ttl: number): Promise<unknown>
    }
    await client.inkwellFill(valueKey(kind, gen, id), keyGenKey(kind, id), keyGen, json, ttlS)
  }

  async dropKey(kind: string, gen: number, id: string): Promise<void> {
    await this.#link.client
      .multi()
      .incr(keyGenKey(kind, id))
      .expire(keyGenKey(kind, id), KEY_GEN_TTL_S)
      .del(valueKey(kind, gen, id))
      .exec()
  }

  /** `dropKey` for many ids: one script, one round trip. */
  async dropKeys(kind: string, gen: number, ids: readonly string[]): Promise<void> {
    const client = this.#link.client as unknown as {
      inkwellDropKeys(numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>
    }
    const keys = [...ids.map((id) => keyGenKey(kind, id)), ...ids.map((id) => valueKey(kind, gen, id))]
    await client.inkwellDropKeys(keys.length, ...keys, KEY_GEN_TTL_S)
  }

  bumpKind(kind: string): Promise<number> {
    return this.#link.client.incr(kindGenKey(kind))
  }

  async kindGens(kinds: readonly string[]): Promise<number[]> {
    const values = await this.#link.client.mget(...kinds.map(kindGenKey))
    return values.map((v) => Number(v ?? 0))
  }

  async publish(message: Invalidation): Promise<void> {
    await this.#link.client.publish(this.#channel, JSON.stringify(message))
  }

  async close(): Promise<void> {
    await this.#sub.close()
  }
}

const valueKey = (kind: string, gen: number, id: string) => `obj:${kind}:${gen}:${id}`
const keyGenKey = (kind: string, id: string) => `objgen:${kind}:${id}`
const kindGenKey = (kind: string) => `objkind:${kind}`
