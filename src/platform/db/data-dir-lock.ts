import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * PGlite does not notice a second process opening its directory, and two writers
 * corrupt it. So whoever opens DATA_DIR first holds `DATA_DIR/inkwell.lock`, a
 * directory (mkdir is atomic) naming the owner's pid. A lock left by a dead process
 * is taken over at once.
 */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${ownerPid}. The embedded database belongs to one process at a time: stop that process first (or point DATA_DIR elsewhere).`,
    )
    this.name = 'DataDirInUseError'
  }
}

export interface DataDirLock {
  release(): void
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(lockDir: string): number | null {
  try {
    const owner = JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8')) as { pid?: unknown }
    return typeof owner.pid === 'number' ? owner.pid : null
  } catch {
    return null
  }
}

export function lockDataDir(dataDir: string, purpose: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true })
  const lockDir = join(dataDir, 'inkwell.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lockDir)
      writeFileSync(
        join(lockDir, 'owner.json'),
        JSON.stringify({ pid: process.pid, purpose, since: new Date() }),
      )
      let released = false
      const release = () => {
        if (released) return
        released = true
        // A process that opens and closes the database many times (tests, tools) must not
        // collect one exit listener per opening.
        process.removeListener('exit', release)
        if (readOwner(lockDir) === process.pid) rmSync(lockDir, { recursive: true, force: true })
      }
      process.once('exit', release)
      return { release }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = readOwner(lockDir)
      // An owner.json not yet written means another process is taking the lock right now.
      if (owner === null || isAlive(owner)) throw new DataDirInUseError(dataDir, owner ?? 0)
      // Stale: rename it away atomically, so only one of several racing starters takes it over.
      const aside = `${lockDir}.stale-${process.pid}`
      try {
        renameSync(lockDir, aside)
      } catch {
        continue
      }
      if (readOwner(aside) !== owner) {
        renameSync(aside, lockDir)
        throw new DataDirInUseError(dataDir, readOwner(lockDir) ?? 0)
      }
      rmSync(aside, { recursive: true, force: true })
    }
  }
  throw new DataDirInUseError(dataDir, readOwner(lockDir) ?? 0)
}
