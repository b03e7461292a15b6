import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { entityTag, ifNoneMatchHits } from '../../platform/cache/etag.ts'
import { withErrors } from '../../platform/http/schema-helpers.ts'
import { MyProfile, PublicProfile, UpdateMe, UsernameParams } from './schemas.ts'
import { getMyProfile, getPublicProfile, updateMyProfile } from './service.ts'

const bearer = [{ bearerAuth: [] }]
const NotModified = Type.Null({ description: 'Not modified' })

/** ETag on every profile response; a matching If-None-Match gets an empty 304. */
function withEtag<T extends object>(
  request: FastifyRequest,
  reply: FastifyReply,
  body: T,
  visibility: string,
) {
  const etag = entityTag(body)
  reply.header('etag', etag).header('cache-control', `${visibility}, max-age=0, must-revalidate`)
  if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send(null)
  return body
}

/** Mounted at /v1/me: the caller's own profile. */
export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['profiles'],
        summary: 'Your profile (created on your first authenticated request; ETag, If-None-Match gives 304)',
        security: bearer,
        response: withErrors({ 200: MyProfile, 304: NotModified }),
      },
    },
    async (request, reply) =>
      withEtag(request, reply, await getMyProfile(request.deps, request.principal!), 'private'),
  )

  app.patch(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['profiles'],
        summary: 'Update your username, display name, bio or avatar',
        security: bearer,
        body: UpdateMe,
        response: withErrors({ 200: MyProfile }),
      },
    },
    async (request) => updateMyProfile(request.deps, request.principal!, request.body),
  )
}

/** Mounted at /v1/profiles: public profiles. */
export const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:username',
    {
      schema: {
        tags: ['profiles'],
        summary: 'A public profile with its count of published stories (ETag; If-None-Match gives 304)',
        params: UsernameParams,
        response: withErrors({ 200: PublicProfile, 304: NotModified }),
      },
    },
    async (request, reply) =>
      withEtag(request, reply, await getPublicProfile(request.deps, request.params.username), 'public'),
  )
}
