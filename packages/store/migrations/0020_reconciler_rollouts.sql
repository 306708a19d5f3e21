-- The reconciler keeps one history row per rollout. The row of the rollout in progress is pointed at from the
-- environment, so a retried write (after a lost connection) finds it instead of inserting a second one.
ALTER TABLE environments
  ADD COLUMN rollout_history_id bigint REFERENCES environment_history (id) ON DELETE SET NULL;

-- `wharf status` and the metrics read environments by lease owner and by target.
CREATE INDEX environments_lease_owner ON environments (lease_owner) WHERE lease_owner IS NOT NULL;

-- The reconciler computes conditions from the row it claimed; packages/source may meanwhile have set or cleared
-- the Stalled condition with reason InvalidVersion, which it alone owns. Merging under the row lock keeps theirs.
CREATE FUNCTION wharf_merge_conditions(current_conditions jsonb, reconciler_conditions jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(c ORDER BY ord), '[]'::jsonb) FROM (
    SELECT c, ord FROM jsonb_array_elements(reconciler_conditions) WITH ORDINALITY AS m(c, ord)
    WHERE NOT (c->>'type' = 'Stalled' AND (
      c->>'reason' = 'InvalidVersion'
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(current_conditions) o
                 WHERE o->>'type' = 'Stalled' AND o->>'reason' = 'InvalidVersion')))
    UNION ALL
    SELECT o, 1000 FROM jsonb_array_elements(current_conditions) o
    WHERE o->>'type' = 'Stalled' AND o->>'reason' = 'InvalidVersion'
  ) merged
$$;
