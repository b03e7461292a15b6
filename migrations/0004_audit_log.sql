-- Tamper-evident audit log (docs/audit-log.md). Rows are inserted unsealed inside
-- the business transaction; the sealer later assigns `seq` in commit order and the
-- HMAC chain (`prev_hash`, `hash`). Only the two SECURITY DEFINER functions below
-- may change rows, and only through the maintenance setting the trigger checks.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz(3) NOT NULL DEFAULT now(),
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'system', 'anonymous')),
  actor_profile_id uuid,
  actor_subject text,
  action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  target_type text,
  target_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
  request_id text,
  client_ip text,
  user_agent text,
  details jsonb NOT NULL DEFAULT '{}',
  seq bigint UNIQUE,
  prev_hash text,
  hash text,
  sealed_at timestamptz(3),
  CONSTRAINT audit_log_sealed_whole CHECK ((seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))
);
-- The sealer's work queue, and the unsealed-age gauge.
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE seq IS NULL;
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_profile_id, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id DESC);
CREATE INDEX audit_log_time_idx ON audit_log (occurred_at, id);

-- One row per retention purge: the hash of the last purged row anchors the chain
-- that remains, and `hash` (HMAC, computed by the application) protects the anchor.
CREATE TABLE audit_checkpoints (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  through_seq bigint NOT NULL UNIQUE,
  anchor_hash text NOT NULL,
  purged_rows bigint NOT NULL,
  hash text NOT NULL
);

CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  mode text := coalesce(current_setting('inkwell.audit_maintenance', true), '');
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.seq IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.sealed_at IS NOT NULL THEN
      RAISE EXCEPTION 'audit_log rows are inserted unsealed' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
  END IF;
  -- Sealing fills the chain columns of an unsealed row and changes nothing else.
  IF TG_OP = 'UPDATE' AND mode = 'seal' AND OLD.seq IS NULL
     AND (NEW.id, NEW.occurred_at, NEW.actor_type, NEW.actor_profile_id, NEW.actor_subject, NEW.action,
          NEW.target_type, NEW.target_id, NEW.outcome, NEW.request_id, NEW.client_ip, NEW.user_agent, NEW.details)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.occurred_at, OLD.actor_type, OLD.actor_profile_id, OLD.actor_subject, OLD.action,
          OLD.target_type, OLD.target_id, OLD.outcome, OLD.request_id, OLD.client_ip, OLD.user_agent, OLD.details) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND mode = 'purge' AND OLD.seq IS NOT NULL THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
-- Statement level: refused even when no row matches.
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- Seals a batch (arrays of equal length, in chain order). SECURITY DEFINER: the
-- application role itself has no UPDATE privilege on audit_log.
CREATE FUNCTION audit_log_seal(ids bigint[], seqs bigint[], prevs text[], hashes text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM set_config('inkwell.audit_maintenance', 'seal', true);
  UPDATE audit_log a SET seq = b.seq, prev_hash = b.prev, hash = b.hash, sealed_at = now()
    FROM unnest(ids, seqs, prevs, hashes) AS b(id, seq, prev, hash)
    WHERE a.id = b.id AND a.seq IS NULL;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('inkwell.audit_maintenance', '', true);
  RETURN n;
END $$;

-- Deletes sealed rows up to `through`, only once a checkpoint anchors what remains.
CREATE FUNCTION audit_log_purge(through bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  n bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE through_seq = through) THEN
    RAISE EXCEPTION 'no audit checkpoint covers seq %', through USING ERRCODE = '42501';
  END IF;
  PERFORM set_config('inkwell.audit_maintenance', 'purge', true);
  DELETE FROM audit_log WHERE seq <= through;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM set_config('inkwell.audit_maintenance', '', true);
  RETURN n;
END $$;

REVOKE ALL ON audit_log, audit_checkpoints FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_log_seal(bigint[], bigint[], text[], text[]), audit_log_purge(bigint) FROM PUBLIC;

-- The API's own role (docs/audit-log.md): insert and select only. Guarded so the
-- migration runs where the role does not exist (PGlite, a laptop) and stays idempotent.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'inkwell_app') AND current_user <> 'inkwell_app' THEN
    REVOKE ALL ON audit_log, audit_checkpoints FROM inkwell_app;
    GRANT SELECT, INSERT ON audit_log, audit_checkpoints TO inkwell_app;
    GRANT USAGE ON SEQUENCE audit_log_id_seq, audit_checkpoints_id_seq TO inkwell_app;
    GRANT EXECUTE ON FUNCTION audit_log_seal(bigint[], bigint[], text[], text[]), audit_log_purge(bigint) TO inkwell_app;
  END IF;
END $$;
