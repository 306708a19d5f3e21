-- Pull agents (issue 13): registration tokens, agents and their credentials, and the desired-state documents the
-- agent target publishes for them with the reports they send back. Secrets are stored as SHA-256 hashes only: both
-- kinds are 32 random bytes, so a fast hash is enough (nothing to brute-force), and a lookup is one index probe.

-- An owner's token for installing agents into one pool of one tenant: multi-use until it expires or is revoked.
CREATE TABLE agent_registration_tokens (
  id            bigserial PRIMARY KEY,
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  pool          text NOT NULL CHECK (pool ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' AND length(pool) <= 63),
  token_hash    text NOT NULL UNIQUE,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  uses          integer NOT NULL DEFAULT 0,
  last_used_at  timestamptz
);
CREATE INDEX agent_registration_tokens_tenant ON agent_registration_tokens (tenant_id, created_at DESC);

CREATE TABLE agents (
  id                     bigserial PRIMARY KEY,
  tenant_id              bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  pool                   text NOT NULL CHECK (pool ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' AND length(pool) <= 63),
  name                   text NOT NULL,
  hostname               text,
  version                text,
  registration_token_id  bigint REFERENCES agent_registration_tokens (id) ON DELETE SET NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  -- Written in batches by the agent API from every poll (at most a few seconds late).
  last_seen_at           timestamptz,
  -- Set when the liveness sweep found the agent Offline and made its environments due; cleared when it is seen again.
  offline_noted_at       timestamptz,
  revoked_at             timestamptz
);
CREATE INDEX agents_pool ON agents (tenant_id, pool) WHERE revoked_at IS NULL;

-- At most two active per agent (rotation): the newest, and the one that asked for it until the new one is first used.
CREATE TABLE agent_credentials (
  id             bigserial PRIMARY KEY,
  agent_id       bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  secret_hash    text NOT NULL UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  first_used_at  timestamptz,
  revoked_at     timestamptz
);
CREATE INDEX agent_credentials_agent ON agent_credentials (agent_id) WHERE revoked_at IS NULL;

-- One document per environment of an `agent:<pool>` target: the WorkflowApp the agent target published (whole, with
-- its content hash), the agent it is placed on (sticky), and the last report of that agent, fenced by the hash.
CREATE TABLE agent_documents (
  environment_id  bigint PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  pool            text NOT NULL,
  agent_id        bigint REFERENCES agents (id) ON DELETE SET NULL,
  generation      bigint NOT NULL,
  -- null while deleting
  document        jsonb,
  document_hash   text NOT NULL,
  deleting        boolean NOT NULL DEFAULT false,
  published_at    timestamptz NOT NULL DEFAULT now(),
  assigned_at     timestamptz,
  reported_hash   text,
  report          jsonb,
  reported_at     timestamptz
);
CREATE INDEX agent_documents_agent ON agent_documents (agent_id);
CREATE INDEX agent_documents_unplaced ON agent_documents (tenant_id, pool) WHERE agent_id IS NULL;
