// Where each route's CPU goes, per request, in two of the `db` scenario's servers:
//   npm run bench -- profile [--seconds 3] [--turns 4] [--frequency 2000] [--top 30]
//                            [--warm 40000] [--connections 32] [--keep DIR] [--database-url …]
//                            [--compare bare,inkwell] [--variant-env K=V,…] [--call-graph]
//
// --compare names two of: bare (the baseline route), inkwell, floor (the minimal pipeline,
// bench/minimal-pipeline-server.ts) and variant (Inkwell with --variant-env's settings on
// top of the scenario's: `--compare inkwell,variant --variant-env RATE_LIMIT_ENABLED=false`
// is what rate limiting costs). --call-graph records call chains too and adds CPU per
// request by stage (perf-stages.ts), and by function under the first stage (the hooks up
// to the handler, nested: each hook calls the next).
//
// One run's total moves by a few per cent: two identical Inkwell servers measured 2.1 %
// apart, and rate limiting's cost came out at 9.3, 7.7 and 2.2 µs in three runs. Repeat a
// comparison before trusting a difference under about 5 %.
//
// Why: the other two views each miss part of it. `--cpu-prof` samples wall time, so a
// socket write that wakes another process shows as 40 % of the thread; callgrind counts
// instructions but not the kernel, nor how fast they run (Inkwell's run slower than the
// bare route's: more code and data per request). `perf record -e cpu-clock` on a server's
// main thread samples only while it is on a CPU, in the kernel, in Node's C++ and V8's
// builtins, and in JIT-compiled JavaScript alike (named through the /tmp/perf-<pid>.map
// that node writes with --perf-basic-prof). Needs `perf` (Debian: linux-perf); a virtual
// machine without hardware counters still has the cpu-clock software event.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { loadOrCreateDevKey, signDevToken } from '../src/platform/auth/dev-idp.ts'
import { dbScenarioServers, POOL, type ScenarioServer } from './db.ts'
import {
  databaseUrlOption,
  load,
  type ServerProcess,
  scratchDatabase,
  startProcess,
  warmOption,
  warmUp,
} from './lib.ts'
import { STAGES, stageSamples } from './perf-stages.ts'
import { seedBenchDatabase } from './seed.ts'

interface Profiled {
  name: string
  url: string
  headers?: Record<string, string> | undefined
  server: ServerProcess
  /** perf.data files, one per turn. */
  files: string[]
  requests: number
}

/** Samples of one turn: `perf record` on the server's main thread while it is loaded. */
async function turn(
  p: Profiled,
  dir: string,
  options: { seconds: number; frequency: number; connections: number; callGraph: boolean },
) {
  const file = join(dir, `${p.name}.${p.files.length}.data`)
  const perf: ChildProcess = spawn(
    'perf',
    [
      'record',
      '-q',
      ...(options.callGraph ? ['-g'] : []),
      '-e',
      'cpu-clock',
      '-F',
      String(options.frequency),
      '-t',
      String(p.server.pid),
      '-o',
      file,
    ],
    { stdio: 'ignore' },
  )
  const exited = once(perf, 'exit')
  // perf needs a moment to attach; the idle main thread is not sampled meanwhile.
  await sleep(500)
  // One that could not attach (perf_event_paranoid, a missing pid) has exited already.
  if (perf.exitCode !== null)
    throw new Error(`perf record exited with ${perf.exitCode}: try it by hand on pid ${p.server.pid}`)
  const result = await load(p.url, {
    connections: options.connections,
    seconds: options.seconds,
    headers: p.headers,
  })
  perf.kill('SIGINT')
  await exited
  p.files.push(file)
  p.requests += result.requests.total
}

/** `K=V,K=V` as settings. */
function settingsOf(list: string): Record<string, string> {
  const settings: Record<string, string> = {}
  for (const pair of list.split(',').filter(Boolean)) {
    const at = pair.indexOf('=')
    if (at < 1) throw new Error(`--variant-env takes K=V pairs, not ${pair}`)
    settings[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return settings
}

/** Where a sample's code lives, by perf's DSO name. */
function placeOf(dso: string): string {
  if (dso === '[kernel.kallsyms]') return 'kernel'
  if (dso.startsWith('[JIT]')) return 'JavaScript (JIT)'
  if (dso === 'node' || dso.endsWith('/node')) return 'Node and V8 (C++, builtins)'
  if (dso.startsWith('libc')) return 'libc'
  return 'other'
}

/** Samples by (place, symbol) over a server's turns. */
function samplesOf(p: Profiled): Map<string, number> {
  const bySymbol = new Map<string, number>()
  for (const file of p.files) {
    const text = execFileSync(
      'perf',
      ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '--stdio', '-F', 'sample,dso,sym'],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
    )
    for (const line of text.split('\n')) {
      const m = /^\s*(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[.\]\s+(.*)$/.exec(line)
      if (!m) continue
      const key = `${placeOf(m[2]!)}\t${m[3]!.trim()}`
      bySymbol.set(key, (bySymbol.get(key) ?? 0) + Number(m[1]))
    }
  }
  return bySymbol
}

/** Samples summed by place (kernel, JIT, …). */
function byPlace(bySymbol: Map<string, number>): Map<string, number> {
  const sums = new Map<string, number>()
  for (const [key, n] of bySymbol) {
    const place = key.slice(0, key.indexOf('\t'))
    sums.set(place, (sums.get(place) ?? 0) + n)
  }
  return sums
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '3' },
      turns: { type: 'string', default: '4' },
      frequency: { type: 'string', default: '2000' },
      top: { type: 'string', default: '30' },
      connections: { type: 'string', default: '32' },
      warm: warmOption,
      keep: { type: 'string' },
      compare: { type: 'string', default: 'bare,inkwell' },
      'variant-env': { type: 'string', default: '' },
      'call-graph': { type: 'boolean', default: false },
      'database-url': databaseUrlOption,
    },
  })
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('this bench needs perf (Debian: apt-get install linux-perf)')
  }
  const seconds = Number(values.seconds)
  const frequency = Number(values.frequency)
  const connections = Number(values.connections)
  const scratch = await scratchDatabase(values['database-url']!, 'inkwell_bench')
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'))
  const perfDir = mkdtempSync(join(tmpdir(), 'inkwell-perf-'))
  const started: ServerProcess[] = []
  try {
    process.stderr.write('seeding 20,000 stories…\n')
    const { storyId: id } = await seedBenchDatabase(scratch.url, dataDir, { users: 1000, stories: 20_000 })
    const token = await signDevToken(await loadOrCreateDevKey(dataDir), {
      subject: 'bench',
      ttlSeconds: 3600,
    })
    // As bench/db.ts: the same pool and settings, a hot token.
    const env = {
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      ...POOL,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof`.trim(),
    }
    const scenario = dbScenarioServers(env, { authorization: `Bearer ${token}` })
    const kinds: Record<string, ScenarioServer> = {
      ...scenario,
      variant: {
        ...scenario.inkwell,
        env: { ...scenario.inkwell.env, ...settingsOf(values['variant-env']) },
      },
    }
    const names = values.compare.split(',')
    if (names.length !== 2 || names[0] === names[1] || !names.every((n) => n in kinds))
      throw new Error(
        '--compare takes two different ones of bare, inkwell, floor, variant: for example bare,inkwell',
      )
    if (values['variant-env'] && !names.includes('variant'))
      throw new Error('--variant-env sets the variant server: name it in --compare (inkwell,variant)')
    const profiled: Profiled[] = []
    for (const name of names) {
      const kind = kinds[name]!
      const server = await startProcess(kind.script, kind.env)
      started.push(server)
      profiled.push({
        name,
        url: `${server.baseUrl}${kind.path}${id}`,
        headers: kind.headers,
        server,
        files: [],
        requests: 0,
      })
    }
    for (const p of profiled)
      await warmUp(p.url, { connections, requests: Number(values.warm), headers: p.headers })
    process.stderr.write('recording…\n')
    // Alternating turns (A B, B A, …), as bench/lib.ts loadInterleaved: both see the
    // machine in the same moods.
    for (let i = 0; i < Number(values.turns); i++) {
      const order = i % 2 === 0 ? profiled : [...profiled].reverse()
      for (const p of order)
        await turn(p, perfDir, { seconds, frequency, connections, callGraph: values['call-graph'] })
    }
    const [b, k] = profiled as [Profiled, Profiled]
    const [bn, kn] = [b.name, k.name]
    const [bs, ks] = [samplesOf(b), samplesOf(k)]
    // µs of the main thread per request: samples / frequency / requests.
    const us = (samples: number, p: Profiled) => (samples * 1e6) / frequency / p.requests
    const f = (n: number) => n.toFixed(2).padStart(8)
    console.log(
      `\nMain-thread CPU per request (µs), perf cpu-clock at ${frequency} Hz; ${bn} ${b.requests} requests, ${kn} ${k.requests}`,
    )
    const [bp, kp] = [byPlace(bs), byPlace(ks)]
    const places = [...new Set([...bp.keys(), ...kp.keys()])].sort(
      (x, y) => (kp.get(y) ?? 0) - (kp.get(x) ?? 0),
    )
    console.log(`${'where'.padEnd(34)} ${bn.padStart(8)} ${kn.padStart(8)}     diff`)
    let [bt, kt] = [0, 0]
    for (const place of places) {
      const [ub, uk] = [us(bp.get(place) ?? 0, b), us(kp.get(place) ?? 0, k)]
      bt += ub
      kt += uk
      console.log(`${place.padEnd(34)} ${f(ub)} ${f(uk)} ${f(uk - ub)}`)
    }
    console.log(
      `${'total'.padEnd(34)} ${f(bt)} ${f(kt)} ${f(kt - bt)}   ${bn} / ${kn} ${((100 * bt) / kt).toFixed(1)} %`,
    )
    console.log(`\nThe ${values.top} symbols ${kn} spends most more on than ${bn} (µs per request):`)
    const keys = new Set([...bs.keys(), ...ks.keys()])
    const diff = (key: string) => us(ks.get(key) ?? 0, k) - us(bs.get(key) ?? 0, b)
    for (const key of [...keys].sort((x, y) => diff(y) - diff(x)).slice(0, Number(values.top))) {
      const [place, symbol] = key.split('\t') as [string, string]
      console.log(
        `${f(us(bs.get(key) ?? 0, b))} ${f(us(ks.get(key) ?? 0, k))} ${f(diff(key))}  ${place}: ${symbol.slice(0, 110)}`,
      )
    }
    if (values['call-graph']) {
      console.log(`\nCPU per request by stage (µs; a stage counts the time of all it calls):`)
      console.log(`${'stage'.padEnd(48)} ${bn.padStart(8)} ${kn.padStart(8)}     diff`)
      const [bg, kg] = [stageSamples(b.files), stageSamples(k.files)]
      STAGES.forEach((stage, i) => {
        const [ub, uk] = [us(bg.byStage[i]!, b), us(kg.byStage[i]!, k)]
        console.log(`${stage.name.padEnd(48)} ${f(ub)} ${f(uk)} ${f(uk - ub)}`)
      })
      const [tb, tk] = [us(bg.total, b), us(kg.total, k)]
      console.log(`${'all samples'.padEnd(48)} ${f(tb)} ${f(tk)} ${f(tk - tb)}`)
      console.log(`\nUnder "${STAGES[0]!.name}", by function (µs; nested: each hook calls the next):`)
      const names = new Set([...bg.underFirst.keys(), ...kg.underFirst.keys()])
      const most = (name: string) =>
        Math.max(us(bg.underFirst.get(name) ?? 0, b), us(kg.underFirst.get(name) ?? 0, k))
      for (const name of [...names].sort((x, y) => most(y) - most(x)).slice(0, Number(values.top))) {
        const [ub, uk] = [us(bg.underFirst.get(name) ?? 0, b), us(kg.underFirst.get(name) ?? 0, k)]
        console.log(`${f(ub)} ${f(uk)} ${f(uk - ub)}  ${name.slice(0, 110)}`)
      }
    }
    if (values.keep) {
      mkdirSync(values.keep, { recursive: true })
      for (const file of readdirSync(perfDir)) copyFileSync(join(perfDir, file), join(values.keep, file))
      console.log(
        `\nperf.data files kept in ${values.keep} (perf report -i FILE; the JIT maps are /tmp/perf-<pid>.map)`,
      )
    }
  } finally {
    const pids = started.map((s) => s.pid)
    for (const server of started) await server.stop()
    // The JIT symbol maps node wrote; kept with the data when asked to.
    if (!values.keep) for (const pid of pids) rmSync(`/tmp/perf-${pid}.map`, { force: true })
    rmSync(perfDir, { recursive: true, force: true })
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
