import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isoTime } from '../src/platform/iso-time.ts'

const FIRST_MS = Date.parse('0000-01-01T00:00:00.000Z')
const END_MS = Date.parse('+010000-01-01T00:00:00.000Z')

const same = (ms: number) => {
  const date = new Date(ms)
  assert.equal(isoTime(date), date.toISOString(), `at ${ms}`)
}

test('isoTime writes what toISOString writes, across the four-digit years', () => {
  // A fixed seed (a linear congruential sequence): the same 200,000 instants every run.
  let seed = 42
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  for (let i = 0; i < 200_000; i++) same(Math.floor(FIRST_MS + next() * (END_MS - FIRST_MS)))
})

test('isoTime at the edges: leap days, centuries, the epoch, the ends of the range', () => {
  for (const ms of [
    0,
    -1,
    1,
    FIRST_MS,
    END_MS - 1,
    Date.UTC(2000, 1, 29, 12),
    Date.UTC(1900, 1, 28, 23, 59, 59, 999),
    Date.UTC(1900, 2, 1),
    Date.UTC(2100, 1, 28, 23, 59, 59, 999),
    Date.UTC(2100, 2, 1),
    Date.UTC(2024, 11, 31, 23, 59, 59, 999),
    Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    Date.UTC(1600, 1, 29),
  ])
    same(ms)
})

test('isoTime hands expanded years and invalid dates to toISOString', () => {
  assert.equal(isoTime(new Date(END_MS)), '+010000-01-01T00:00:00.000Z')
  assert.equal(isoTime(new Date(FIRST_MS - 1)), '-000001-12-31T23:59:59.999Z')
  assert.throws(() => isoTime(new Date(Number.NaN)), RangeError)
})
