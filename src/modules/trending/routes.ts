import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { cacheKeys } from '../../platform/cache/keys.ts'
import { IsoDate, Uuid, withErrors } from '../../platform/http/schema-helpers.ts'
import { isoTime } from '../../platform/iso-time.ts'
import { AuthorSummary } from '../profiles/index.ts'
import { readTrending } from './jobs.ts'

const TrendingQuery = Type.Object(
  {
    window: Type.Union([Type.Literal('24h'), Type.Literal('7d')], { default: '24h' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
)

const TrendingStory = Type.Object({
  id: Uuid,
  title: Type.String(),
  tags: Type.Array(Type.String()),
  author: AuthorSummary,
  likeCount: Type.Integer(),
  viewCount: Type.Integer(),
  publishedAt: IsoDate,
  score: Type.Number(),
})

const Trending = Type.Object({ window: Type.String(), items: Type.Array(TrendingStory) })

/** Mounted at /v1/trending. */
export const trendingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      schema: {
        tags: ['trending'],
        summary: 'Published stories ranked by a time-decayed score of likes and views',
        querystring: TrendingQuery,
        response: withErrors({ 200: Trending }),
      },
    },
    async (request) => {
      const { window, limit } = request.query
      const { deps } = request
      return deps.cache.getOrLoad('trending', cacheKeys.trending(window, limit), async () => {
        const rows = await readTrending(deps, window, limit)
        return { window, items: rows.map((r) => ({ ...r, publishedAt: isoTime(r.publishedAt!) })) }
      })
    },
  )
}
