-- Reconciles update environment rows several times per rollout. The lease-owner index added in 0020 made every
-- such update touch one more index and nothing reads through it; room left on each page lets updates that change
-- no indexed column stay on the page (HOT). Conditions are merged under the row lock in packages/store/src/environments.ts
-- now, so the SQL merge function of 0020 goes.
DROP INDEX IF EXISTS environments_lease_owner;
ALTER TABLE environments SET (fillfactor = 70);
ALTER TABLE environment_history SET (fillfactor = 90);
DROP FUNCTION IF EXISTS wharf_merge_conditions(jsonb, jsonb);
