import type { Counter } from 'prom-client'

/** One label set's count, kept as a plain number until the counter is read. */
export interface Tally {
  inc(): void
}

/**
 * Increments of a two-label `counter` by label set, for counters a hot path bumps on
 * every request (cache hits, rate-limit checks, token verifications). prom-client
 * validates and hashes the label object on every `inc`, even through a `labels()` child;
 * here an increment is two map lookups and an addition, and the tallies are added to the
 * counter when it is read (a scrape, through its `collect`), so what /metrics shows is
 * the same.
 */
export function tallies<L extends string>(
  counter: Counter<L>,
  labelNames: readonly [L, L],
): (first: string, second: string) => Tally {
  interface Entry extends Tally {
    readonly labels: Partial<Record<L, string>>
    pending: number
  }
  // By first label value, then second: a lookup builds no key string per call.
  const byFirst = new Map<string, Map<string, Entry>>()
  const flush = () => {
    for (const bySecond of byFirst.values())
      for (const tally of bySecond.values()) {
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
  return (first, second) => {
    let bySecond = byFirst.get(first)
    if (bySecond === undefined) {
      bySecond = new Map()
      byFirst.set(first, bySecond)
    }
    let tally = bySecond.get(second)
    if (tally === undefined) {
      const labels: Partial<Record<L, string>> = {}
      labels[labelNames[0]] = first
      labels[labelNames[1]] = second
      tally = {
        labels,
        pending: 0,
        inc() {
          this.pending++
        },
      }
      bySecond.set(second, tally)
    }
    return tally
  }
}
