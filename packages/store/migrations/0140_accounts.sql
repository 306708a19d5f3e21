-- Accounts and the public API (issue 15). The organization IS the tenant: `tenants` and every `tenant_id` stay as
-- they are, and the organization's parts (slug, installations, people, keys) reference tenants(id).

-- An organization made at sign-in (no installation yet) is a `team` tenant.
ALTER TABLE tenants DROP CONSTRAINT IF EXISTS tenants_kind_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_kind_check CHECK (kind IN ('github', 'local', 'team'));

-- A URL-safe, unique name of the organization; filled in for rows made by code that does not know it.
ALTER TABLE tenants ADD COLUMN slug text;
CREATE FUNCTION wharf_tenant_slug() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE base text;
BEGIN
  IF NEW.slug IS NULL OR NEW.slug = '' THEN
    base := left(trim(both '-' from lower(regexp_replace(NEW.name, '[^A-Za-z0-9]+', '-', 'g'))), 40);
    IF base = '' THEN base := 'org'; END IF;
    NEW.slug := CASE WHEN EXISTS (SELECT 1 FROM tenants WHERE slug = base) THEN base || '-' || NEW.id ELSE base END;
  END IF;
  RETURN NEW;
END $$;
WITH named AS (
  SELECT id, coalesce(nullif(left(trim(both '-' from lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), 40), ''), 'org') AS base,
         row_number() OVER (PARTITION BY coalesce(nullif(left(trim(both '-' from lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g'))), 40), ''), 'org') ORDER BY id) AS n
  FROM tenants
)
UPDATE tenants t SET slug = CASE WHEN named.n = 1 THEN named.base ELSE named.base || '-' || t.id END FROM named WHERE named.id = t.id;
ALTER TABLE tenants ALTER COLUMN slug SET NOT NULL;
ALTER TABLE tenants ADD CONSTRAINT tenants_slug_key UNIQUE (slug);
CREATE TRIGGER tenants_slug BEFORE INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION wharf_tenant_slug();

-- GitHub App installations belong to one organization; an organization may hold several. The tenant made for an
-- installation (kind 'github', external_id = installation id) holds it from the start.
CREATE TABLE github_installations (
  installation_id  text PRIMARY KEY,
  tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account          text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_installations_tenant ON github_installations (tenant_id);
INSERT INTO github_installations (installation_id, tenant_id, account) SELECT external_id, id, name FROM tenants WHERE kind = 'github';
CREATE FUNCTION wharf_tenant_installation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO github_installations (installation_id, tenant_id, account) VALUES (NEW.external_id, NEW.id, NEW.name)
  ON CONFLICT (installation_id) DO NOTHING;
  RETURN NEW;
END $$;
CREATE TRIGGER tenants_installation AFTER INSERT ON tenants FOR EACH ROW WHEN (NEW.kind = 'github') EXECUTE FUNCTION wharf_tenant_installation();

-- People: GitHub users who signed in, and the local owner of `wharf up`.
CREATE TABLE users (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('github', 'local')),
  github_id       bigint UNIQUE,
  login           text NOT NULL,
  name            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at timestamptz,
  CHECK ((kind = 'github') = (github_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_one_local ON users (kind) WHERE kind = 'local';

CREATE TABLE memberships (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('owner', 'admin', 'deployer', 'viewer')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
  id           bigserial PRIMARY KEY,
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  role         text NOT NULL CHECK (role IN ('owner', 'admin', 'deployer', 'viewer')),
  login        text,
  invited_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  accepted_at  timestamptz,
  accepted_by  bigint REFERENCES users (id) ON DELETE SET NULL,
  revoked_at   timestamptz
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, id DESC);

-- API keys: only a keyed hash (HMAC-SHA256 with the server's pepper) of the secret is kept.
CREATE TABLE api_keys (
  id              bigserial PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name            text NOT NULL,
  prefix          text NOT NULL,
  secret_hash     bytea NOT NULL UNIQUE,
  scopes          text[] NOT NULL,
  permissions     text[] NOT NULL,
  repository_ids  bigint[],
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz,
  expires_at      timestamptz,
  revoked_at      timestamptz,
  rotated_from    bigint REFERENCES api_keys (id)
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id DESC);

-- Browser sessions (cookie) and CLI user tokens (device login): a hash of the token is kept.
CREATE TABLE sessions (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('browser', 'cli')),
  token_hash    bytea NOT NULL UNIQUE,
  csrf_secret   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  user_agent    text,
  ip            text
);
CREATE INDEX sessions_user ON sessions (user_id, id DESC);

-- Token buckets of the API's rate limits, shared by every control-plane replica. Unlogged: a crash forgets them,
-- which only refills every bucket.
CREATE UNLOGGED TABLE api_rate_buckets (
  bucket      text PRIMARY KEY,
  tokens      float8 NOT NULL,
  rate        float8 NOT NULL,
  burst       float8 NOT NULL,
  allowed     boolean NOT NULL DEFAULT true,
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Idempotency keys of acting POSTs: the first result, replayed for 24 hours.
CREATE TABLE api_idempotency (
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  principal     text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status        integer,
  body          jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, principal, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);

-- The audit log gets who in kind, the request and where it came from, and before/after.
ALTER TABLE audit_log
  ADD COLUMN actor_kind text NOT NULL DEFAULT 'system',
  ADD COLUMN request_id text,
  ADD COLUMN source_ip  text,
  ADD COLUMN before     jsonb,
  ADD COLUMN after      jsonb;
UPDATE audit_log SET actor_kind = CASE split_part(actor, ':', 1)
  WHEN 'github' THEN 'github' WHEN 'git' THEN 'git' WHEN 'cli' THEN 'cli' WHEN 'user' THEN 'user' WHEN 'key' THEN 'key'
  WHEN 'local' THEN 'local' ELSE 'system' END;
CREATE INDEX audit_log_tenant_id ON audit_log (tenant_id, id DESC);

-- Append-only: rows are never changed or removed, whoever connects (a separate role without UPDATE/DELETE grants
-- may be added in deployment; this trigger holds for the owner too).
CREATE FUNCTION wharf_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION wharf_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION wharf_audit_append_only();

-- The API lists environments by app and name within an organization, a page at a time.
CREATE INDEX environments_tenant_app_name ON environments (tenant_id, app, name, id);
CREATE INDEX environment_history_tenant ON environment_history (tenant_id, environment_id, id DESC);

-- Live updates: each change a user sees is NOTIFYed as '<tenant>:<e|h|d>:<id>' on wharf_live_events.
CREATE FUNCTION wharf_live_environment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('wharf_live_events', OLD.tenant_id || ':d:' || OLD.id);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('wharf_live_events', NEW.tenant_id || ':e:' || NEW.id);
  RETURN NEW;
END $$;
CREATE TRIGGER environments_live_insert AFTER INSERT OR DELETE ON environments FOR EACH ROW EXECUTE FUNCTION wharf_live_environment();
CREATE TRIGGER environments_live_update AFTER UPDATE ON environments FOR EACH ROW
  WHEN (OLD.conditions IS DISTINCT FROM NEW.conditions OR OLD.suspended IS DISTINCT FROM NEW.suspended OR OLD.url IS DISTINCT FROM NEW.url
        OR OLD.observed_generation IS DISTINCT FROM NEW.observed_generation OR OLD.generation IS DISTINCT FROM NEW.generation
        OR OLD.deletion_requested_at IS DISTINCT FROM NEW.deletion_requested_at)
  EXECUTE FUNCTION wharf_live_environment();
CREATE FUNCTION wharf_live_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wharf_live_events', NEW.tenant_id || ':h:' || NEW.id);
  RETURN NEW;
END $$;
CREATE TRIGGER environment_history_live AFTER INSERT OR UPDATE OF result ON environment_history FOR EACH ROW EXECUTE FUNCTION wharf_live_history();
