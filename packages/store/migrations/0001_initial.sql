-- Wharf's first schema. Migrations are append-only: never edit a migration that has shipped; add the next
-- number instead. Ranges reserved while several people add tables at once: 0010-0019 source,
-- 0020-0029 reconciler, 0030-0039 webhook-app, 0040-0049 agent and billing.

-- A tenant is a GitHub App installation, or the local owner in `wharf up`.
CREATE TABLE tenants (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('github', 'local')),
  external_id   text NOT NULL,
  name          text NOT NULL,
  plan          text NOT NULL DEFAULT 'free',
  max_previews  integer NOT NULL DEFAULT 10 CHECK (max_previews >= 0),
  suspended_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, external_id)
);

CREATE TABLE repositories (
  id              bigserial PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  provider        text NOT NULL CHECK (provider IN ('github', 'local', 'git')),
  full_name       text NOT NULL,
  url             text NOT NULL,
  default_branch  text NOT NULL DEFAULT 'main',
  external_id     text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, full_name)
);
CREATE INDEX repositories_tenant ON repositories (tenant_id);

-- One row per commit seen. Per-app results live in version_apps.
CREATE TABLE versions (
  id             bigserial PRIMARY KEY,
  tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  repository_id  bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  sha            text NOT NULL CHECK (sha ~ '^[0-9a-f]{40,64}$'),
  parent_sha     text,
  ref            text,
  author         text,
  message        text,
  committed_at   timestamptz,
  valid          boolean NOT NULL,
  diagnostics    jsonb NOT NULL DEFAULT '[]'::jsonb,
  manifest       jsonb,
  reachable      boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (repository_id, sha)
);
CREATE INDEX versions_tenant ON versions (tenant_id);

CREATE TABLE version_apps (
  version_id   bigint NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  app          text NOT NULL,
  digest       text NOT NULL,
  valid        boolean NOT NULL,
  diagnostics  jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- The WorkflowApp spec this version asks for (files, runtime, replicas, env by reference).
  spec         jsonb,
  -- Set when the app's files did not change in this commit: the digest was carried forward from here.
  carried_from_version_id bigint REFERENCES versions (id),
  -- Set when this digest equals an earlier version's on the same branch: a rollback to that version.
  rollback_of_version_id  bigint REFERENCES versions (id),
  PRIMARY KEY (version_id, app)
);
CREATE INDEX version_apps_digest ON version_apps (tenant_id, app, digest);

CREATE TABLE environments (
  id                    bigserial PRIMARY KEY,
  tenant_id             bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  repository_id         bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  app                   text NOT NULL,
  name                  text NOT NULL,
  kind                  text NOT NULL CHECK (kind IN ('production', 'preview')),
  branch                text,
  pr_number             integer,
  target                text NOT NULL DEFAULT 'local',
  desired_version_id    bigint REFERENCES versions (id),
  desired_digest        text,
  desired_spec          jsonb,
  generation            bigint NOT NULL DEFAULT 1,
  observed_generation   bigint NOT NULL DEFAULT 0,
  observed_digest       text,
  observed_version_id   bigint REFERENCES versions (id),
  conditions            jsonb NOT NULL DEFAULT '[]'::jsonb,
  url                   text,
  lease_owner           text,
  lease_expires_at      timestamptz,
  -- When the environment is next due: now() after a change of desired state, the backoff after a
  -- failure, the (jittered) resync time after success, the lease expiry while claimed.
  next_attempt_at       timestamptz NOT NULL DEFAULT now(),
  failure_count         integer NOT NULL DEFAULT 0,
  suspended             boolean NOT NULL DEFAULT false,
  drift_mode            text NOT NULL DEFAULT 'correct' CHECK (drift_mode IN ('correct', 'warn')),
  deletion_requested_at timestamptz,
  last_reconciled_at    timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (repository_id, app, name)
);
CREATE INDEX environments_tenant ON environments (tenant_id);
-- "Claim due environments" is a range scan of this index: WHERE NOT suspended AND next_attempt_at <= now()
-- ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP LOCKED.
CREATE INDEX environments_due ON environments (next_attempt_at) WHERE NOT suspended;

-- One row per rollout.
CREATE TABLE environment_history (
  id                      bigserial PRIMARY KEY,
  tenant_id               bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  environment_id          bigint NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  generation              bigint NOT NULL,
  version_id              bigint REFERENCES versions (id),
  digest                  text,
  action                  text NOT NULL,
  result                  text NOT NULL CHECK (result IN ('in_progress', 'succeeded', 'failed', 'superseded')),
  reason                  text,
  message                 text,
  rollback_of_version_id  bigint REFERENCES versions (id),
  started_at              timestamptz NOT NULL DEFAULT now(),
  finished_at             timestamptz
);
CREATE INDEX environment_history_env ON environment_history (environment_id, id DESC);

CREATE TABLE webhook_deliveries (
  delivery_id   text PRIMARY KEY,
  tenant_id     bigint REFERENCES tenants (id) ON DELETE CASCADE,
  source        text NOT NULL DEFAULT 'github',
  event         text NOT NULL,
  action        text,
  payload       jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'done', 'ignored', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (received_at) WHERE status IN ('pending', 'processing');

-- Everything the outside world must hear about, written in the transaction that decided it.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  environment_id   bigint REFERENCES environments (id) ON DELETE SET NULL,
  kind             text NOT NULL,
  payload          jsonb NOT NULL,
  dedupe_key       text,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  UNIQUE (dedupe_key)
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  tenant_id   bigint REFERENCES tenants (id) ON DELETE CASCADE,
  actor       text NOT NULL,
  action      text NOT NULL,
  subject     text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at DESC);
