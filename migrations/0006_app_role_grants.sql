-- The application role's privileges (docs/database.md, docs/audit-log.md). Migrations
-- run as the role that owns the schema; the API and workers connect as DATABASE_APP_ROLE,
-- which may read and write the application's tables but only append to the audit
-- tables and never change the schema. `inkwell migrate` calls this after every run (so
-- a role created later, or a table added by a later migration, is covered by the next
-- run) and `inkwell db grant` calls it on demand. Idempotent: every table's privileges
-- are revoked and granted again, so nothing granted by hand survives a run.
CREATE FUNCTION inkwell_grant_app_role(app_role text, required boolean DEFAULT true) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
  rel record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
    IF required THEN
      RAISE EXCEPTION 'role "%" does not exist: CREATE ROLE it first (docs/database.md)', app_role
        USING ERRCODE = '42704';
    END IF;
    RETURN false;
  END IF;
  -- Granting to oneself is meaningless (and an owner keeps every privilege anyway).
  IF app_role = current_user THEN
    IF required THEN
      RAISE EXCEPTION 'connected as "%" itself: grant as the schema owner (DATABASE_DIRECT_URL)', app_role
        USING ERRCODE = '42501';
    END IF;
    RETURN false;
  END IF;
  IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = app_role) THEN
    RAISE WARNING 'role "%" is a superuser: privileges do not restrict it, only the triggers do', app_role;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);
  -- Tables and sequences of the schema, not those an extension (pg_stat_statements) brings.
  FOR rel IN
    SELECT c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP
    IF rel.relkind = 'S' THEN
      EXECUTE format('REVOKE ALL ON SEQUENCE %I FROM %I', rel.relname, app_role);
      EXECUTE format('GRANT USAGE ON SEQUENCE %I TO %I', rel.relname, app_role);
      CONTINUE;
    END IF;
    EXECUTE format('REVOKE ALL ON TABLE %I FROM %I', rel.relname, app_role);
    EXECUTE format('GRANT %s ON TABLE %I TO %I',
      CASE
        -- Append-only: sealing and purging go through the SECURITY DEFINER functions below.
        WHEN rel.relname IN ('audit_log', 'audit_checkpoints') THEN 'SELECT, INSERT'
        -- Readiness compares it with migrations/; only migrations write it.
        WHEN rel.relname = 'schema_migrations' THEN 'SELECT'
        ELSE 'SELECT, INSERT, UPDATE, DELETE'
      END, rel.relname, app_role);
  END LOOP;
  EXECUTE format('GRANT EXECUTE ON FUNCTION audit_log_seal(bigint[], bigint[], text[], text[]), '
    'audit_log_purge(bigint) TO %I', app_role);
  RETURN true;
END $$;

REVOKE ALL ON FUNCTION inkwell_grant_app_role(text, boolean) FROM PUBLIC;
