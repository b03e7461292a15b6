-- Jobs that must follow a committed write: written in the writer's transaction and
-- relayed to the queue (or the in-process runner) by a loop; deleted once delivered.
CREATE TABLE job_outbox (
  id bigserial PRIMARY KEY,
  job_name text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

-- Counter batches already written: a flush retried after its commit adds nothing twice.
CREATE TABLE counter_batches (
  batch_id text PRIMARY KEY,
  applied_at timestamptz(3) NOT NULL DEFAULT now()
);

-- The ranking computed every minute; GET /v1/trending reads it instead of ranking per request.
CREATE TABLE trending_snapshot (
  time_window text NOT NULL,
  rank integer NOT NULL,
  story_id uuid NOT NULL,
  score float8 NOT NULL,
  computed_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (time_window, rank)
);

-- Derived on publish by the stories.process job; NULL until it has run.
ALTER TABLE stories ADD COLUMN word_count integer;
ALTER TABLE stories ADD COLUMN reading_time_minutes integer;
ALTER TABLE stories ADD COLUMN excerpt text;
