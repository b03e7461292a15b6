import { Counter, Gauge, Histogram, type Metric } from 'prom-client'

/** Cache metrics; created unregistered and handed to the app's registry by the platform. */
export function createCacheMetrics() {
  const hits = new Counter({
    name: 'inkwell_cache_hits_total',
    help: 'Object cache hits by kind and tier (local LRU, shared Redis, coalesced in-flight load)',
    labelNames: ['kind', 'tier'],
    registers: [],
  })
  const misses = new Counter({
    name: 'inkwell_cache_misses_total',
    help: 'Object cache misses by kind; reason `bypass` while the cache is off or degraded',
    labelNames: ['kind', 'reason'],
    registers: [],
  })
  const loads = new Histogram({
    name: 'inkwell_cache_load_duration_seconds',
    help: 'Duration of the database load behind a cache miss, by kind',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [],
  })
  const invalidations = new Counter({
    name: 'inkwell_cache_invalidations_total',
    help: 'Invalidations by kind, scope (key or whole kind) and origin (this instance or another)',
    labelNames: ['kind', 'scope', 'origin'],
    registers: [],
  })
  const degraded = new Gauge({
    name: 'inkwell_cache_degraded',
    help: '1 while the shared cache (Redis) is unreachable and the cache is bypassed',
    registers: [],
  })
  const all: Metric[] = [hits, misses, loads, invalidations, degraded]
  return { hits, misses, loads, invalidations, degraded, all }
}

export type CacheMetrics = ReturnType<typeof createCacheMetrics>
