import type { Counter } from 'prom-client'

/** One label set's count, kept as a plain number until the counter is read. */
export interface Tally {
  inc(): void
}

/**
 * Increments of `counter` by label set, for counters a hot path bumps on every request
 * (cache hits, rate-limit checks). prom-client validates and hashes the label object on
 * every `inc`, even through a `labels()` child; here an increment is a map lookup and an
 * addition, and the tallies are added to the counter when it is read (a scrape, through
 * its `collect`), so what /metrics shows is the same.
 */
export function tallies<L extends string>(
  counter: Counter<L>,
  labelNames: readonly L[],
): (...values: string[]) => Tally {
  const byKey = new Map<string, { labels: Partial<Record<L, string>>; pending: number; inc(): void }>()
  const flush = () => {
    for (const tally of byKey.values()) {
      if (tally.pending === 0) continue
      counter.inc(tally.labels, tally.pending)
      tally.pending = 0
    }
  }
  // Chained: several tallies (one per cache instance in tests) may feed one counter.
  // `collect` is a constructor option prom-client calls before every read; typed only there.
  const collecting = counter as unknown as { collect?: (this: unknown) => unknown }
  const previous = collecting.collect
  collecting.collect = function (this: unknown) {
    flush()
    return previous?.call(this)
  }
  return (...values) => {
    const key = values.join('\u0000')
    let tally = byKey.get(key)
    if (tally === undefined) {
      const labels: Partial<Record<L, string>> = {}
      labelNames.forEach((name, i) => {
        labels[name] = values[i]!
      })
      tally = {
        labels,
        pending: 0,
        inc() {
          this.pending++
        },
      }
      byKey.set(key, tally)
    }
    return tally
  }
}
