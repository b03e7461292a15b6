-- Trending ranks every published story of a window by likes, views and age. This
-- narrow covering index lets the ranking scan read only the index (an index-only
-- scan); full rows are fetched for the top N alone.
CREATE INDEX stories_trending_idx ON stories (published_at DESC) INCLUDE (like_count, view_count, id)
  WHERE status = 'published' AND deleted_at IS NULL;
