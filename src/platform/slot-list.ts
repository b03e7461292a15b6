/** An item of a SlotList: its index there, or -1 when it is not in one. */
export interface Slotted {
  slot: number
}

/**
 * A set of objects kept in a plain array: each item carries its index, and removal
 * moves the last item into the freed slot. Order is not kept.
 *
 * For collections that every request enters and leaves (the requests in flight), in
 * place of a `Set`. V8's Set and Map grow and shrink by rehashing into a new table and
 * leaving, in the old one, a link to its successor (for live iterators). Under steady
 * churn, once one such table is promoted to the old generation, the dead old table
 * keeps its young successor alive through every scavenge, which keeps the next, and so
 * on: each table, and the requests it held when it was replaced, is copied and promoted
 * instead of freed (docs/database.md, "GC: what outlived its request"). An array
 * shrinks in place and links to nothing; a WeakMap from item to index would bring the
 * same trouble back (see memo-on.ts).
 */
export class SlotList<T extends Slotted> {
  readonly #items: T[] = []

  get size(): number {
    return this.#items.length
  }

  add(item: T): void {
    if (this.#items[item.slot] === item) return
    item.slot = this.#items.length
    this.#items.push(item)
  }

  delete(item: T): boolean {
    const slot = item.slot
    if (this.#items[slot] !== item) return false
    item.slot = -1
    const last = this.#items.pop()!
    if (last !== item) {
      this.#items[slot] = last
      last.slot = slot
    }
    return true
  }

  /** Calls `visit(item, arg)` on every item; `visit` may delete the item it is given. */
  forEach<A>(visit: (item: T, arg: A) => void, arg: A): void {
    // Backwards: a deletion moves the last item, already visited, into the current slot.
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const item = this.#items[i]
      if (item !== undefined) visit(item, arg)
    }
  }
}
