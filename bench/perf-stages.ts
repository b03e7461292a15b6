// CPU per request by stage of a request's life, from `perf record -g` call chains: a
// sample counts for a stage when the stage's frame is anywhere on its stack (inclusive).
//
// Why stages rather than symbols: which functions V8 inlines into which differs between
// two servers and between two runs of one, so a symbol's own samples move from one name
// to another (the PostgreSQL protocol parser's Buffer slices showed up as Inkwell's alone).
// The frames below are entries from C++ or large functions, which stayed frames of their
// own in every profile taken so far, so the time under each compares between servers.
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

/** Samples per stage over `files` (perf.data recorded with -g), and the samples in all. */
export function stageSamples(files: readonly string[]): { byStage: number[]; total: number } {
  const byStage = STAGES.map(() => 0)
  let total = 0
  for (const file of files) {
    const text = execFileSync('perf', ['script', '-i', file, '-F', 'ip,sym'], {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    // One sample per blank-line-separated block, one frame per line.
    for (const block of text.split('\n\n')) {
      if (block.trim() === '') continue
      total++
      for (let i = 0; i < STAGES.length; i++) if (STAGES[i]!.frame.test(block)) byStage[i]!++
    }
  }
  return { byStage, total }
}
