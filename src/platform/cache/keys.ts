/** Every cache key and TTL Inkwell uses, named in one place. */
export const cacheKeys = {
  profileBySubject: (subject: string) => `profile:sub:${subject}`,
  storyView: (storyId: string, readerHash: string) => `view:${storyId}:${readerHash}`,
  /** The trending ranking (ids and scores) the recompute job writes, by window. */
  trendingRanking: (window: string) => `trending:ranking:${window}`,
  /** Object cache ids (the kind is passed beside them). */
  storyList: (q: { limit: number; tag?: string | undefined; author?: string | undefined }) =>
    `${q.limit}:${q.tag ?? ''}:${q.author ?? ''}`,
  trending: (window: string, limit: number) => `${window}:${limit}`,
}

/** What the two-tier object cache holds, each kind with its own TTL. */
export const cacheKinds = ['story', 'storyList', 'profile', 'trending'] as const
export type CacheKind = (typeof cacheKinds)[number]

export const TTL = {
  /** One counted view per reader per story per hour. */
  storyViewDedupeS: 3600,
  /** Outlives a few missed recomputes; the snapshot table is the fallback. */
  trendingRankingS: 300,
  /**
   * Object TTLs. Writes invalidate explicitly, so a TTL only bounds what no write
   * announces: view counts (flushed in batches without invalidating), trending
   * scores decaying with time, and an invalidation lost while Redis was down.
   */
  objects: {
    /** A published story by id (drafts are never stored). */
    story: 30,
    /** First pages of the feed, by limit, tag and author. */
    storyList: 15,
    /** Public profiles by username. */
    profile: 60,
    /** Trending by window and limit. */
    trending: 30,
  } satisfies Record<CacheKind, number>,
}

/** Writes to a story change it, every list page and trending (counts, titles, membership). */
export async function invalidateStory(
  cache: {
    invalidate(kind: CacheKind, id: string): Promise<void>
    invalidateKind(kind: CacheKind): Promise<void>
  },
  storyId: string,
): Promise<void> {
  await Promise.all([
    cache.invalidate('story', storyId),
    cache.invalidateKind('storyList'),
    cache.invalidateKind('trending'),
  ])
}

/**
 * A profile edit changes its public profile (maybe under a new username) and the
 * author summary embedded in stories, list pages and trending: rare enough to drop
 * every entry of those kinds rather than track which ones embed the author.
 */
export async function invalidateAuthor(cache: {
  invalidateKind(kind: CacheKind): Promise<void>
}): Promise<void> {
  await Promise.all(cacheKinds.map((kind) => cache.invalidateKind(kind)))
}
