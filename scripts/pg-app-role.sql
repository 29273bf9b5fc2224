-- The PostgreSQL role Haetae's web server and workers connect as: not a superuser, not the owner of any
-- table, so it can neither drop the ledger's append-only triggers nor UPDATE, DELETE or TRUNCATE the ledger.
-- The owner role (the one that runs `manage.py migrate`) runs this script in Haetae's database, after every
-- migration that adds tables (the default privileges below cover tables the owner creates later):
--
--   psql -U haetae_owner -d haetae -f scripts/pg-app-role.sql
--   psql -U haetae_owner -d haetae -c "ALTER ROLE haetae_app PASSWORD '…'"   (or a pg_hba.conf cert rule)
--
-- Then DATABASE_URL=postgres://haetae_app@HOST/haetae for gunicorn and Celery, and the owner's URL only for
-- `manage.py migrate`. docs/operations.md explains the split.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'haetae_app') THEN
    CREATE ROLE haetae_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO haetae_app', current_database());
END $$;

GRANT USAGE ON SCHEMA public TO haetae_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO haetae_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO haetae_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO haetae_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO haetae_app;

-- The ledger: events and checkpoints are only ever added and read.
REVOKE ALL ON evidence_custodyevent, evidence_checkpoint FROM haetae_app;
GRANT SELECT, INSERT ON evidence_custodyevent, evidence_checkpoint TO haetae_app;
