import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withErrors } from '../../platform/http/schema-helpers.ts'
import { StoryIdParams } from '../stories/index.ts'
import { setLike } from './service.ts'

const LikeState = Type.Object({ liked: Type.Boolean(), likeCount: Type.Integer() })

/** Mounted at /v1/stories: PUT and DELETE /:id/like. */
export const likeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const [method, liked] of [
    ['PUT', true],
    ['DELETE', false],
  ] as const) {
    app.route({
      method,
      url: '/:id/like',
      preHandler: app.requireUser,
      schema: {
        tags: ['likes'],
        summary: liked ? 'Like a published story (idempotent)' : 'Remove your like (idempotent)',
        security: [{ bearerAuth: [] }],
        params: StoryIdParams,
        response: withErrors({ 200: LikeState }),
      },
      handler: async (request) => setLike(request.deps, request.principal!, request.params.id, liked),
    })
  }
}
