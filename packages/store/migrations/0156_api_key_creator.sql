-- API keys outlived their creator's membership: `created_by` is a display string (`user:octocat`, `key:wharf_AbCd
-- (ci)`). The creator's user id lets the API revoke the keys of someone who leaves an organization, and cap those of
-- someone demoted to their new role. A key made by a key has the user who made that key.
ALTER TABLE api_keys ADD COLUMN created_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX api_keys_creator ON api_keys (tenant_id, created_by_user_id) WHERE revoked_at IS NULL;

-- Keys made before: their creator where the display string names exactly one member of the key's organization.
UPDATE api_keys k SET created_by_user_id = (
  SELECT min(u.id) FROM users u JOIN memberships m ON m.user_id = u.id AND m.tenant_id = k.tenant_id
  WHERE (k.created_by = 'user:' || u.login AND u.kind = 'github') OR (k.created_by = 'local:owner' AND u.kind = 'local')
  HAVING count(*) = 1)
WHERE k.created_by_user_id IS NULL;
