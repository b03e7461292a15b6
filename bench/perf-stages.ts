// CPU per request by stage of a request's life, from `perf record -g` call chains: a
// sample counts for a stage when the stage's frame is anywhere on its stack (inclusive).
//
// Why stages rather than symbols: which functions V8 inlines into which differs between
// two servers and between two runs of one, so a symbol's own samples move from one name
// to another (the PostgreSQL protocol parser's Buffer slices showed up as Inkwell's alone).
// The frames below are entries from C++ or large functions, which nearly always stay
// frames of their own, so the time under each compares between servers. Not always: once
// an Inkwell process inlined `writeHead` into its caller and that stage read 0. A stage
// at 0 where the other server has time is that, not a saving.
import { execFileSync } from 'node:child_process'

export interface Stage {
  name: string
  /** Matches the frame's line as `perf script` prints it (JIT frames: `JS:*name path:line:col`). */
  frame: RegExp
}

// JavaScript frames are matched by function and file, whatever the checkout's path and
// whether V8 optimized them (`*`) or not (`^`, `~`).
export const STAGES: readonly Stage[] = [
  { name: 'request in, to the handler (routing, hooks)', frame: /JS:.parserOnIncoming node:_http_server:/ },
  { name: 'statement sent (pg client.query)', frame: /JS:.query \S*\/node_modules\/pg\/lib\/client\.js:/ },
  {
    name: 'PostgreSQL replies parsed, and what follows',
    frame: /JS:.parse \S*\/pg-protocol\/dist\/parser\.js:/,
  },
  { name: 'status line and headers (writeHead)', frame: /JS:.writeHead node:_http_server:/ },
  { name: 'socket writes (streams clearBuffer)', frame: /JS:.clearBuffer node:internal\/streams\/writable:/ },
  { name: 'onResponse hooks (onResFinished)', frame: /JS:.onResFinished \S*\/fastify\/lib\/reply\.js:/ },
  { name: 'setImmediate callbacks (log batches)', frame: /JS:.processImmediate node:internal\/timers:/ },
  { name: 'garbage collection (scavenges)', frame: /ScavengerCollector::CollectGarbage/ },
  { name: 'system calls', frame: /entry_SYSCALL_64/ },
]

/**
 * Samples per stage over `files` (perf.data recorded with -g), and the samples in all;
 * `underFirst`: per JavaScript function called (at any depth) under the first stage's frame,
 * the samples it is on the stack for. Hooks call the next hook, so the figures nest: a
 * hook's own share is its figure less the next one's.
 */
export function stageSamples(files: readonly string[]): {
  byStage: number[]
  total: number
  underFirst: Map<string, number>
} {
  const byStage = STAGES.map(() => 0)
  const underFirst = new Map<string, number>()
  let total = 0
  for (const file of files) {
    const text = execFileSync('perf', ['script', '-i', file, '-F', 'ip,sym'], {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    // One sample per blank-line-separated block, one frame per line, the innermost first.
    for (const block of text.split('\n\n')) {
      if (block.trim() === '') continue
      total++
      for (let i = 0; i < STAGES.length; i++) if (STAGES[i]!.frame.test(block)) byStage[i]!++
      const frames = block.split('\n')
      const first = frames.findIndex((frame) => STAGES[0]!.frame.test(frame))
      for (const name of new Set(frames.slice(0, Math.max(first, 0)).map(jsFunction)))
        if (name) underFirst.set(name, (underFirst.get(name) ?? 0) + 1)
    }
  }
  return { byStage, total, underFirst }
}

/** A JIT frame's function and where it is (`name file:line`), the checkout's path left out; undefined for others. */
function jsFunction(frame: string): string | undefined {
  const match = /JS:.(\S*) (\S+)$/.exec(frame.trim())
  if (!match) return undefined
  const where = match[2]!.replace(/^.*\/(node_modules|dist|bench)\//, '$1/').replace(/^file:\/\//, '')
  return `${match[1] || '(anonymous)'} ${where}`
}
