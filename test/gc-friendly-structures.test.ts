import assert from 'node:assert/strict'
import { test } from 'node:test'
import { memoOn } from '../src/platform/memo-on.ts'
import { SlotList } from '../src/platform/slot-list.ts'

const item = (name: string) => ({ name, slot: -1 })

test('SlotList: add, delete and visit, in any order, with deletions while visiting', () => {
  const list = new SlotList<ReturnType<typeof item>>()
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [
    ReturnType<typeof item>,
    ReturnType<typeof item>,
    ReturnType<typeof item>,
    ReturnType<typeof item>,
  ]
  for (const x of [a, b, c, d]) list.add(x)
  list.add(b) // already in: no second copy
  assert.equal(list.size, 4)
  assert.equal(list.delete(b), true)
  assert.equal(list.delete(b), false, 'a second delete finds nothing')
  assert.equal(b.slot, -1)
  const seen: string[] = []
  list.forEach((x) => {
    seen.push(x.name)
  }, undefined)
  assert.deepEqual(seen.sort(), ['a', 'c', 'd'])
  // Deleting every item while visiting visits each exactly once and empties the list.
  const visited: string[] = []
  list.forEach((x, into: string[]) => {
    into.push(x.name)
    list.delete(x)
  }, visited)
  assert.deepEqual(visited.sort(), ['a', 'c', 'd'])
  assert.equal(list.size, 0)
  // An item that left can come back; one never added is not deleted.
  list.add(a)
  assert.equal(list.size, 1)
  assert.equal(list.delete(item('x')), false)
  assert.equal(list.size, 1)
})

test('SlotList: an item that belongs to another list is not deleted from this one', () => {
  const first = new SlotList<ReturnType<typeof item>>()
  const second = new SlotList<ReturnType<typeof item>>()
  const a = item('a')
  const b = item('b')
  first.add(a)
  second.add(b)
  // Both sit in slot 0 of their own list.
  assert.equal(first.delete(b), false)
  assert.equal(first.size, 1)
  assert.equal(second.delete(b), true)
})

test('memoOn: computed once per object, and invisible to JSON, spreads and keys', () => {
  const SLOT = Symbol('test')
  let computed = 0
  const derive = (o: { n: number }) => {
    computed++
    return { double: o.n * 2 }
  }
  const row = { n: 21 }
  const first = memoOn(row, SLOT, derive)
  assert.deepEqual(first, { double: 42 })
  assert.equal(memoOn(row, SLOT, derive), first, 'the same value, not recomputed')
  assert.equal(computed, 1)
  assert.equal(JSON.stringify(row), '{"n":21}')
  assert.deepEqual(Object.keys(row), ['n'])
  // A copy (a row changed by spreading) is a new object: its value is derived afresh.
  const changed = { ...row, n: 5 }
  assert.deepEqual(memoOn(changed, SLOT, derive), { double: 10 })
  assert.equal(computed, 2)
})
