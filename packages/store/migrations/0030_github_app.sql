-- The GitHub App (issue 7): delivery processing with retries and per-repository order, ordered outbox streams,
-- and what Wharf remembers about pull requests, check runs and GitHub deployments so that it edits them in place.

-- Deliveries are processed in order per repository (ordering_key), retried with backoff (next_attempt_at), and
-- reclaimed when a worker died while holding one (locked_until).
ALTER TABLE webhook_deliveries
  ADD COLUMN ordering_key     text,
  ADD COLUMN next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN locked_until     timestamptz;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'processing');

-- Rows of one stream are delivered in id order; rows without a stream are ordered per environment.
ALTER TABLE outbox
  ADD COLUMN stream        text,
  ADD COLUMN locked_until  timestamptz;
CREATE INDEX outbox_stream_pending ON outbox (stream, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_environment_pending ON outbox (environment_id, id) WHERE delivered_at IS NULL;

CREATE TABLE github_pull_requests (
  repository_id     bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  tenant_id         bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  number            integer NOT NULL,
  state             text NOT NULL CHECK (state IN ('open', 'closed', 'merged')),
  title             text NOT NULL DEFAULT '',
  head_sha          text NOT NULL,
  head_ref          text NOT NULL,
  base_ref          text NOT NULL,
  fork              boolean NOT NULL,
  draft             boolean NOT NULL DEFAULT false,
  author            text,
  -- A maintainer's approval of a fork preview holds for this head commit only: a new push needs a new approval.
  approved_sha      text,
  approved_by       text,
  comment_id        bigint,
  merge_commit_sha  text,
  -- What the last validation and plan said, per app, for the comment.
  summary           jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_push_at      timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, number)
);
CREATE INDEX github_pull_requests_open ON github_pull_requests (tenant_id) WHERE state = 'open';
CREATE INDEX github_pull_requests_merge ON github_pull_requests (repository_id, merge_commit_sha);

-- One row per check run Wharf created: (head commit, name, run) → GitHub's id, and how many annotation batches
-- of the current output went out, so a retried update does not post annotations twice.
CREATE TABLE github_check_runs (
  repository_id     bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  head_sha          text NOT NULL,
  name              text NOT NULL,
  run_key           text NOT NULL,
  check_run_id      bigint NOT NULL,
  output_key        text,
  batches_sent      integer NOT NULL DEFAULT 0,
  status            text,
  conclusion        text,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, head_sha, name, run_key)
);

-- One GitHub deployment per (GitHub environment, commit); statuses are posted to it.
CREATE TABLE github_deployments (
  id                  bigserial PRIMARY KEY,
  repository_id       bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  environment_id      bigint REFERENCES environments (id) ON DELETE SET NULL,
  pr_number           integer,
  github_environment  text NOT NULL,
  sha                 text NOT NULL,
  deployment_id       bigint NOT NULL,
  last_state          text,
  last_url            text,
  last_description    text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (repository_id, github_environment, sha)
);
CREATE INDEX github_deployments_pr ON github_deployments (repository_id, pr_number);
