-- Profiles: one per identity-provider subject.
CREATE TABLE profiles (
  id uuid PRIMARY KEY,
  subject text NOT NULL,
  username text NOT NULL,
  display_name text,
  bio text,
  avatar_url text,
  email text,
  -- Maintained in the same transaction as every publish and delete.
  published_story_count integer NOT NULL DEFAULT 0 CHECK (published_story_count >= 0),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT profiles_subject_key UNIQUE (subject),
  CONSTRAINT profiles_username_key UNIQUE (username),
  CONSTRAINT profiles_username_format CHECK (username ~ '^[a-z0-9_]{3,30}$')
);

-- Stories. Timestamps carry millisecond precision so keyset cursors built from
-- JavaScript dates match the stored values exactly.
CREATE TABLE stories (
  id uuid PRIMARY KEY,
  author_id uuid NOT NULL REFERENCES profiles (id),
  title text NOT NULL,
  body text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'removed')),
  like_count integer NOT NULL DEFAULT 0 CHECK (like_count >= 0),
  view_count bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  published_at timestamptz(3),
  deleted_at timestamptz(3),
  CONSTRAINT stories_published_has_time CHECK (status <> 'published' OR published_at IS NOT NULL)
);

-- GET /v1/stories and trending: newest published first.
CREATE INDEX stories_feed_idx ON stories (published_at DESC, id DESC)
  WHERE status = 'published' AND deleted_at IS NULL;
-- GET /v1/profiles/:username/stories, ?author=, and the published-story count of a profile.
CREATE INDEX stories_author_feed_idx ON stories (author_id, published_at DESC, id DESC)
  WHERE status = 'published' AND deleted_at IS NULL;
-- ?tag=
CREATE INDEX stories_tags_idx ON stories USING gin (tags)
  WHERE status = 'published' AND deleted_at IS NULL;
-- An author's own stories, drafts included.
CREATE INDEX stories_author_created_idx ON stories (author_id, created_at DESC);

-- One row per (story, profile): the primary key makes a like idempotent.
CREATE TABLE story_likes (
  story_id uuid NOT NULL REFERENCES stories (id),
  profile_id uuid NOT NULL REFERENCES profiles (id),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (story_id, profile_id)
);
CREATE INDEX story_likes_profile_idx ON story_likes (profile_id, created_at DESC);
