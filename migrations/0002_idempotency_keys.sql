-- Idempotency-Key records: the first response to a (subject, key) is replayed to retries.
CREATE TABLE idempotency_keys (
  subject text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status_code integer,
  response_body jsonb,
  response_location text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL,
  PRIMARY KEY (subject, key)
);
-- The purge of expired keys.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
