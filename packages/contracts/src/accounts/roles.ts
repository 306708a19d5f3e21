/**
 * Organizations, roles and permissions: the one permission matrix. Every check in the REST API, the roles table in
 * docs/accounts.md and what an API key may do are read from here.
 */
export const ROLES = ['owner', 'admin', 'deployer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'organization:read': 'see the organization, its plan and installations',
  'organization:manage': 'rename the organization',
  'organization:own': 'make or remove owners',
  'members:read': 'list members and invitations',
  'members:manage': 'invite people, change roles below owner, remove members',
  'keys:read': 'list API keys',
  'keys:manage': 'create, rotate and revoke API keys',
  'repositories:read': 'list repositories, apps and versions',
  'environments:read': 'list environments, their status, history and diff',
  'logs:read': "read an environment's runtime logs",
  'environments:deploy': 'suspend, resume, redeploy and roll back environments',
  'audit:read': 'read the audit log',
  'audit:export': 'export the audit log as JSON lines',
  'agents:read': 'list agents and registration tokens',
  'agents:manage': 'create registration tokens, remove agents',
  'billing:read': 'see the plan, usage against its limits and the projected invoice',
  'billing:manage': 'upgrade through Stripe Checkout, open the Stripe customer portal',
} as const;
export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

const READ: readonly Permission[] = ['organization:read', 'members:read', 'repositories:read', 'environments:read', 'agents:read', 'billing:read'];

/** role → what it may do. Each role holds every permission of the roles below it. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: READ,
  deployer: [...READ, 'logs:read', 'environments:deploy', 'audit:read'],
  admin: PERMISSION_NAMES.filter((p) => p !== 'organization:own'),
  owner: PERMISSION_NAMES,
};

export const roleCan = (role: Role, permission: Permission): boolean => ROLE_PERMISSIONS[role].includes(permission);

/** An API key's scopes, each a set of permissions. A key never holds more than its creator's role. */
export const KEY_SCOPES = ['read', 'deploy', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export const KEY_SCOPE_PERMISSIONS: Record<KeyScope, readonly Permission[]> = {
  read: [...READ, 'logs:read', 'audit:read'],
  deploy: [...READ, 'logs:read', 'audit:read', 'environments:deploy'],
  admin: PERMISSION_NAMES.filter((p) => p !== 'organization:own'),
};

/**
 * What a key limited to repositories (`repositoryIds`) may not use, though its scopes hold it: each reaches the whole
 * organization (its people, its audit log, its name, its agents: an agent serves every repository of its pool), not
 * only those repositories. The API answers 403
 * `permission-denied` naming the permission.
 */
export const ORGANIZATION_WIDE_PERMISSIONS = ['organization:manage', 'members:manage', 'audit:read', 'audit:export', 'billing:read', 'billing:manage', 'agents:read', 'agents:manage'] as const satisfies readonly Permission[];

export const isOrganizationWide = (permission: string): boolean => (ORGANIZATION_WIDE_PERMISSIONS as readonly string[]).includes(permission);

/** The permissions of a key with these scopes, created by someone of `role` (the intersection). */
export function keyPermissions(scopes: readonly KeyScope[], role: Role): Permission[] {
  const granted = new Set(scopes.flatMap((s) => KEY_SCOPE_PERMISSIONS[s]));
  return PERMISSION_NAMES.filter((p) => granted.has(p) && roleCan(role, p));
}

/**
 * Who may approve a fork's preview in the dashboard. On GitHub, approving (`/wharf preview`, the label, the check's
 * button) needs write access to the repository, asked of GitHub; the dashboard cannot ask GitHub for the person yet,
 * so it asks for more than `environments:deploy`: the organization's owners and admins only.
 */
export const FORK_APPROVER_ROLES: readonly Role[] = ['owner', 'admin'];
export const mayApproveForkPreview = (role: Role | null): boolean => role !== null && FORK_APPROVER_ROLES.includes(role);

export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);
export const isPermission = (value: unknown): value is Permission => typeof value === 'string' && value in PERMISSIONS;

/** Whether an actor of `actorRole` may give or take `role` (only owners touch owners). */
export const mayAssignRole = (actorRole: Role, role: Role): boolean => role !== 'owner' || roleCan(actorRole, 'organization:own');

/** The roles table of docs/accounts.md, rendered from the matrix. */
export function renderRolesTable(): string {
  const header = `| permission | what it allows | ${ROLES.join(' | ')} |\n| --- | --- | ${ROLES.map(() => ':-:').join(' | ')} |`;
  const rows = PERMISSION_NAMES.map((p) => `| \`${p}\` | ${PERMISSIONS[p]} | ${ROLES.map((r) => (roleCan(r, p) ? '✓' : '')).join(' | ')} |`);
  const scopes = KEY_SCOPES.map((s) => `| \`${s}\` | ${KEY_SCOPE_PERMISSIONS[s].map((p) => `\`${p}\``).join(', ')} |`);
  const wide = ORGANIZATION_WIDE_PERMISSIONS.map((p) => `\`${p}\``).join(', ');
  return `${header}\n${rows.join('\n')}\n\nAPI key scopes (a key holds the permissions of its scopes that its creator's role also holds):\n\n| scope | permissions |\n| --- | --- |\n${scopes.join('\n')}\n\nA key limited to repositories (\`repositoryIds\`) cannot use the permissions that reach the whole organization, whatever its scopes: ${wide} (403 \`permission-denied\` naming the permission).`;
}
