// The baseline of the `db` scenario: a bare Fastify route running Inkwell's own
// story-by-id query through the same pool settings, with nothing else (no auth,
// limits, validation, logging, hooks). Started by bench/db.ts.

import Fastify from 'fastify'
import { serve } from './serve.ts'
import { openStoryDb } from './story-db.ts'

const stories = openStoryDb()
const app = Fastify()
app.get<{ Params: { id: string } }>('/stories/:id', async (request, reply) => {
  const row = await stories.findStory(request.params.id)
  if (!row) return reply.code(404).send()
  return row
})
await serve(app, 'bare server', stories.close)
