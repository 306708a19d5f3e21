-- Restructure (issue 12). Every table of tenant data carries tenant_id, so that every read through the store names
-- the tenant whose rows it reads (the accounts work scopes by organisation on top of it). The GitHub App's check
-- runs and deployments had only their repository's id.
ALTER TABLE github_check_runs ADD COLUMN tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE;
UPDATE github_check_runs c SET tenant_id = r.tenant_id FROM repositories r WHERE r.id = c.repository_id;
ALTER TABLE github_check_runs ALTER COLUMN tenant_id SET NOT NULL;

ALTER TABLE github_deployments ADD COLUMN tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE;
UPDATE github_deployments d SET tenant_id = r.tenant_id FROM repositories r WHERE r.id = d.repository_id;
ALTER TABLE github_deployments ALTER COLUMN tenant_id SET NOT NULL;

-- The audit log says who did what, when and why: `reason` is the why (a commit subject, a comment, a command).
ALTER TABLE audit_log ADD COLUMN reason text NOT NULL DEFAULT '';
CREATE INDEX audit_log_subject ON audit_log (tenant_id, subject, at DESC);
