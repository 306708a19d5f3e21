-- Source (issue 4): the last head of every branch Wharf has seen, per repository. Syncing compares the refs it
-- reads (from a working copy, a fetch or the remote's advertisement) with these rows to find moved, new and
-- deleted branches, and to tell a force push (the old head is not an ancestor of the new one) from a fast-forward.
CREATE TABLE repository_refs (
  repository_id  bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  tenant_id      bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  ref            text NOT NULL,
  sha            text NOT NULL CHECK (sha ~ '^[0-9a-f]{40,64}$'),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, ref)
);

-- Rollback recognition looks up earlier versions of the same app with the same digest in one repository.
CREATE INDEX version_apps_app_digest ON version_apps (app, digest, version_id);
