-- PostgreSQL roles for production: the service may only INSERT into (and read) the append-only
-- tables, so even a compromised application cannot UPDATE, DELETE or TRUNCATE them; the
-- triggers are a second line, not the only one.
--
--   haven_owner  owns the schema; `haven migrate` runs as this role (HAVEN_DATABASE_URL of the
--                migration job only)
--   haven_app    what `haven serve`, the scheduler and the workers connect as
--
-- Run as a superuser after the first `haven migrate`, and again after any migration that
-- creates a table (new tables get the default privileges below).  Not yet exercised by the test
-- suite: try it on a staging copy first.

CREATE ROLE haven_app LOGIN;  -- set a password or use certificate authentication

GRANT USAGE ON SCHEMA public TO haven_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO haven_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO haven_app;
ALTER DEFAULT PRIVILEGES FOR ROLE haven_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO haven_app;
ALTER DEFAULT PRIVILEGES FOR ROLE haven_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO haven_app;

-- Append-only: insert and read, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON
    audit_ledgerentry, audit_checkpoint,
    equipment_custodyevent,
    risk_decisionlogentry, risk_measurestatuschange, risk_assessmentevent
FROM haven_app;
