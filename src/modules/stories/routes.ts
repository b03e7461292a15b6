import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Page, withErrors } from '../../platform/http/schema-helpers.ts'
import {
  AuthorStoriesParams,
  AuthorStoriesQuery,
  CreateStory,
  ListStoriesQuery,
  Story,
  StoryIdParams,
  StoryListItem,
  UpdateStory,
} from './schemas.ts'
import {
  createStory,
  deleteStory,
  getStory,
  listStories,
  publishStory,
  toStory,
  updateStory,
} from './service.ts'
import { createViewCounter, readerKey, viewFlushJob } from './views.ts'

const bearer = [{ bearerAuth: [] }]
const StoryPage = Page(StoryListItem)

/** Mounted at /v1/stories. */
export const storyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app
  const views = createViewCounter(ctx)
  ctx.jobs.register(viewFlushJob(views, ctx.config.VIEW_FLUSH_INTERVAL_S))

  app.get(
    '/',
    {
      schema: {
        tags: ['stories'],
        summary: 'Published stories, newest first (keyset-paginated)',
        querystring: ListStoriesQuery,
        response: withErrors({ 200: StoryPage }),
      },
    },
    async (request) => {
      const { author, ...page } = request.query
      return listStories(ctx, page, author === undefined ? undefined : { username: author, mustExist: false })
    },
  )

  app.post(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['stories'],
        summary: 'Create a draft',
        security: bearer,
        body: CreateStory,
        response: withErrors({ 201: Story }),
      },
    },
    async (request, reply) => {
      const story = await createStory(ctx, request.principal!, request.body)
      reply.code(201).header('location', `/v1/stories/${story.id}`)
      return story
    },
  )

  app.get(
    '/:id',
    {
      schema: {
        tags: ['stories'],
        summary: 'A published story, or your own draft',
        params: StoryIdParams,
        response: withErrors({ 200: Story }),
      },
    },
    async (request) => {
      const row = await getStory(ctx, request.principal, request.params.id)
      if (row.status === 'published' && row.authorId !== request.principal?.profileId) {
        const reader = readerKey(request.principal?.subject, request.ip, request.headers['user-agent'])
        await views.record(row.id, reader)
      }
      return toStory(row)
    },
  )

  app.patch(
    '/:id',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['stories'],
        summary: 'Edit your story',
        security: bearer,
        params: StoryIdParams,
        body: UpdateStory,
        response: withErrors({ 200: Story }),
      },
    },
    async (request) => updateStory(ctx, request.principal!, request.params.id, request.body),
  )

  app.post(
    '/:id/publish',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['stories'],
        summary: 'Publish your draft (publishing a published story changes nothing)',
        security: bearer,
        params: StoryIdParams,
        response: withErrors({ 200: Story }),
      },
    },
    async (request) => publishStory(ctx, request.principal!, request.params.id),
  )

  app.delete(
    '/:id',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['stories'],
        summary: 'Delete a story (its author or an admin); soft delete',
        security: bearer,
        params: StoryIdParams,
        response: withErrors({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await deleteStory(ctx, request.principal!, request.params.id)
      return reply.code(204).send(null)
    },
  )
}

/** Mounted at /v1/profiles: one author's published stories. */
export const authorStoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:username/stories',
    {
      schema: {
        tags: ['stories'],
        summary: "One author's published stories, newest first",
        params: AuthorStoriesParams,
        querystring: AuthorStoriesQuery,
        response: withErrors({ 200: StoryPage }),
      },
    },
    async (request) =>
      listStories(app.ctx, request.query, { username: request.params.username, mustExist: true }),
  )
}
