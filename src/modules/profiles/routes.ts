import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { withErrors } from '../../platform/http/schema-helpers.ts'
import { MyProfile, PublicProfile, UpdateMe, UsernameParams } from './schemas.ts'
import { getMyProfile, getPublicProfile, updateMyProfile } from './service.ts'

const bearer = [{ bearerAuth: [] }]

/** Mounted at /v1/me: the caller's own profile. */
export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['profiles'],
        summary: 'Your profile (created on your first authenticated request)',
        security: bearer,
        response: withErrors({ 200: MyProfile }),
      },
    },
    async (request) => getMyProfile(app.ctx, request.principal!),
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
    async (request) => updateMyProfile(app.ctx, request.principal!, request.body),
  )
}

/** Mounted at /v1/profiles: public profiles. */
export const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:username',
    {
      schema: {
        tags: ['profiles'],
        summary: 'A public profile with its count of published stories',
        params: UsernameParams,
        response: withErrors({ 200: PublicProfile }),
      },
    },
    async (request) => getPublicProfile(app.ctx, request.params.username),
  )
}
