/**
 * Authentication and RBAC. Each bearer token maps to a user: the admin (like `kubernetes-admin` in group
 * `system:masters`, allowed everything) or a service account with policy rules (the union of its Roles and
 * ClusterRoles). A denied request gets the API server's 403 wording:
 * `workflowapps.wharf.dev "x" is forbidden: User "system:serviceaccount:ns:name" cannot patch resource "workflowapps" in API group "wharf.dev" in the namespace "ns"`.
 */
import { randomBytes } from 'node:crypto';
import { forbidden, unauthorized } from './status.js';

export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
export type Verb = (typeof VERBS)[number];

export interface PolicyRule {
  verbs: (Verb | '*')[];
  apiGroups: string[];
  /** Plural resource names, `<resource>/<subresource>`, or `*`. */
  resources: string[];
  resourceNames?: string[];
  /** Namespaces the rule is bound in (a RoleBinding each). Leave out for a ClusterRoleBinding: every namespace and cluster-scoped resources. */
  namespaces?: string[];
}

export interface ServiceAccountSpec {
  namespace: string;
  name: string;
  rules: PolicyRule[];
}

export interface User {
  name: string;
  admin: boolean;
  rules: PolicyRule[];
}

export interface Attributes {
  verb: Verb;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const matches = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);

function allows(rule: PolicyRule, a: Attributes): boolean {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (!matches(rule.verbs, a.verb) || !matches(rule.apiGroups, a.group) || !matches(rule.resources, resource)) return false;
  if (rule.resourceNames?.length && (!a.name || !rule.resourceNames.includes(a.name))) return false;
  if (rule.namespaces) return a.namespace !== undefined && rule.namespaces.includes(a.namespace);
  return true;
}

export class Authorizer {
  private readonly users = new Map<string, User>();
  readonly adminToken: string;

  constructor() {
    this.adminToken = `admin-${randomBytes(12).toString('hex')}`;
    this.users.set(this.adminToken, { name: 'kubernetes-admin', admin: true, rules: [] });
  }

  /** Registers a service account; returns its bearer token. */
  addServiceAccount(sa: ServiceAccountSpec): string {
    const token = `sa-${sa.namespace}-${sa.name}-${randomBytes(12).toString('hex')}`;
    this.users.set(token, { name: `system:serviceaccount:${sa.namespace}:${sa.name}`, admin: false, rules: sa.rules });
    return token;
  }

  /** 401 without a known bearer token, as an API server with only token authentication answers. */
  authenticate(header: string | undefined): User {
    const match = /^Bearer (\S+)$/i.exec(header ?? '');
    const user = match ? this.users.get(match[1]!) : undefined;
    if (!user) throw unauthorized();
    return user;
  }

  authorize(user: User, a: Attributes): void {
    if (user.admin || user.rules.some((r) => allows(r, a))) return;
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    const why = `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
    throw forbidden({ group: a.group, resource: a.resource }, a.name ?? '', why);
  }
}
