/**
 * Evaluates PVE's permission checks (the `permissions` of each operation in the schema, prefix notation) against the
 * fake token's ACL, so a test can prove which privileges the agent needs. Semantics of PVE's RPCEnvironment: a
 * privilege granted on a path applies to it and everything below it (propagate), `"user":"all"` lets any
 * authenticated token in, and an operation with no check is root-only.
 */

export interface AclEntry {
  /** `/`, `/vms`, `/vms/100`, `/nodes/pve1`, `/storage/local-lvm`, `/sdn/zones/localnetwork`, … */
  path: string;
  privileges: readonly string[];
}

export function hasPrivilege(acl: readonly AclEntry[], path: string, privilege: string): boolean {
  return acl.some(
    (e) => (e.path === '/' || path === e.path || path.startsWith(`${e.path}/`)) && e.privileges.includes(privilege),
  );
}

type Check = unknown[];

/** Returns null when allowed, or the "(path, privilege)" that failed, as PVE puts it in its 403 status line. */
export function checkPermission(
  permissions: Record<string, unknown> | undefined,
  acl: readonly AclEntry[],
  params: Record<string, string>,
): string | null {
  if (!permissions) return '(/, root only)';
  if (permissions.user === 'all' || permissions.user === 'world') return null;
  const check = permissions.check as Check | undefined;
  if (!check) return '(/, root only)';
  return evaluate(check, acl, params);
}

function substitute(path: string, params: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name] ?? `{${name}}`);
}

function evaluate(check: Check, acl: readonly AclEntry[], params: Record<string, string>): string | null {
  const [kind, ...rest] = check;
  if (kind === 'and') {
    for (const sub of rest) {
      const failed = evaluate(sub as Check, acl, params);
      if (failed) return failed;
    }
    return null;
  }
  if (kind === 'or') {
    let first: string | null = null;
    for (const sub of rest) {
      const failed = evaluate(sub as Check, acl, params);
      if (!failed) return null;
      first ??= failed;
    }
    return first;
  }
  if (kind === 'perm') {
    const [rawPath, privileges, ...options] = rest as [string, string[], ...unknown[]];
    const requireParam = options.indexOf('require_param');
    if (requireParam >= 0 && params[options[requireParam + 1] as string] === undefined) return `(${rawPath}, missing parameter)`;
    const path = substitute(rawPath, params);
    const any = options.indexOf('any') >= 0;
    const held = privileges.filter((p) => hasPrivilege(acl, path, p));
    if (any ? held.length > 0 : held.length === privileges.length) return null;
    const missing = any ? privileges.join('|') : privileges.filter((p) => !held.includes(p)).join(', ');
    return `(${path}, ${missing})`;
  }
  // userid-group, userid-param: checks about managing users; tokens of the agent never pass them.
  return `(${String(kind)})`;
}

/**
 * PVE applies a pool's ACL to the guests in it: /pool/P privileges hold on /vms/<vmid> for every member. Returns
 * the token's ACL with those grants spelled out per member, so the checks above need no knowledge of pools.
 */
export function effectiveAcl(acl: readonly AclEntry[], members: Iterable<{ vmid: number; pool?: string }>): AclEntry[] {
  const out = [...acl];
  for (const g of members) {
    if (!g.pool) continue;
    for (const e of acl) if (e.path === `/pool/${g.pool}` || e.path === '/pool') out.push({ path: `/vms/${g.vmid}`, privileges: e.privileges });
  }
  return out;
}
