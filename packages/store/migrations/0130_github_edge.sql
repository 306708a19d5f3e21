-- The GitHub edge (issues 11 and 18).

-- What the author waits for goes first: each outbox row has a priority (0 first), and the drain sends each
-- installation's most urgent stream first. A reconciler's deployment status is prepared once (the preview check
-- and the comment refresh it leads to are queued) before it is sent, so the check need not wait for the deployment
-- writes; prepared_at says that happened.
ALTER TABLE outbox
  ADD COLUMN priority     smallint NOT NULL DEFAULT 2,
  ADD COLUMN prepared_at  timestamptz;
CREATE INDEX outbox_tenant_pending ON outbox (tenant_id, priority, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_unprepared ON outbox (id) WHERE delivered_at IS NULL AND prepared_at IS NULL;

-- A maintainer's `/wharf preview` approves the head at the comment's time: when GitHub says this head became the
-- pull request's head (the event's time on GitHub's clock, from a signed payload), so a head pushed after the
-- comment is not approved by it.
ALTER TABLE github_pull_requests ADD COLUMN head_since timestamptz;

-- Processed deliveries are pruned after a retention period.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (received_at) WHERE status IN ('done', 'ignored', 'failed');
