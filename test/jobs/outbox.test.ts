import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, test } from 'node:test'
import { freshDataDir, unique } from '../helpers/app.ts'
import { embeddedEnv, runCli, type ServerProcess, startServer } from '../helpers/process.ts'
import { eventually } from './support.ts'

const servers: ServerProcess[] = []
after(async () => {
  for (const server of servers) await server.stop('SIGKILL')
})

test('a job whose write committed is done after the process dies between commit and enqueue', async () => {
  const dataDir = freshDataDir()
  const env = (extra: Record<string, string> = {}) =>
    embeddedEnv({ DATA_DIR: dataDir, NODE_ENV: 'test', ...extra })
  const first = await startServer(env({ FAULT_INJECTION: 'exit-after-outbox-commit' }))
  servers.push(first)
  const token = runCli(['token', '--sub', unique('outbox')], env()).stdout.trim()
  const headers = { authorization: `Bearer ${token}` }

  const created = await fetch(`${first.baseUrl}/v1/stories`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Outbox', body: 'four words in body' }),
  })
  assert.equal(created.status, 201, await created.clone().text())
  const { id } = (await created.json()) as { id: string }
  const exited = once(first.child, 'exit')
  // The process kills itself right after the publish transaction commits.
  const publish = await fetch(`${first.baseUrl}/v1/stories/${id}/publish`, { method: 'POST', headers }).then(
    async (res) => `${res.status} ${await res.text()}`,
    () => 'no response',
  )
  assert.equal(publish, 'no response', first.output())
  const [, signal] = await exited
  assert.equal(signal, 'SIGKILL')

  const second = await startServer(env())
  servers.push(second)
  const story = await eventually(async () => {
    const res = await fetch(`${second.baseUrl}/v1/stories/${id}`, { headers })
    const body = (await res.json()) as { status: string; wordCount: number | null }
    return body.wordCount !== null && body
  }, 'the relayed job to process the story after restart')
  assert.equal(story.status, 'published')
  assert.equal(story.wordCount, 4)
})
