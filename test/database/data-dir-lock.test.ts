import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DataDirInUseError, lockDataDir } from '../../src/platform/db/data-dir-lock.ts'
import { testDir } from '../helpers/app.ts'

const freshDir = () => {
  mkdirSync(testDir(), { recursive: true })
  return mkdtempSync(join(testDir(), 'lock-'))
}

test('the data directory lock is held until released, and a second holder is refused', () => {
  const dir = freshDir()
  const lock = lockDataDir(dir, 'test')
  assert.ok(existsSync(join(dir, 'inkwell.lock', 'owner.json')))
  assert.throws(
    () => lockDataDir(dir, 'second'),
    (err) => err instanceof DataDirInUseError && err.ownerPid === process.pid,
  )
  lock.release()
  assert.ok(!existsSync(join(dir, 'inkwell.lock')))
  lockDataDir(dir, 'again').release()
})

test('taking and releasing the lock many times leaves no exit listener behind', () => {
  const dir = freshDir()
  const before = process.listenerCount('exit')
  for (let i = 0; i < 20; i++) lockDataDir(dir, 'test').release()
  assert.equal(process.listenerCount('exit'), before)
  const held = lockDataDir(dir, 'test')
  assert.equal(process.listenerCount('exit'), before + 1, 'a held lock is released on exit')
  held.release()
})

test('a lock left by a dead process is taken over', () => {
  const dir = freshDir()
  mkdirSync(join(dir, 'inkwell.lock'))
  // Above Linux's pid_max: no such process.
  writeFileSync(join(dir, 'inkwell.lock', 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345 }))
  lockDataDir(dir, 'test').release()
  assert.ok(!existsSync(join(dir, 'inkwell.lock')))
})
