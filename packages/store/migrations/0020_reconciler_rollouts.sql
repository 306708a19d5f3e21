-- The reconciler keeps one history row per rollout. The row of the rollout in progress is pointed at from the
-- environment, so a retried write (after a lost connection) finds it instead of inserting a second one.
ALTER TABLE environments
  ADD COLUMN rollout_history_id bigint REFERENCES environment_history (id) ON DELETE SET NULL;

-- `wharf status` and the metrics read environments by lease owner and by target.
CREATE INDEX environments_lease_owner ON environments (lease_owner) WHERE lease_owner IS NOT NULL;
