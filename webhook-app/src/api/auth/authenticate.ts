/**
 * Who a request is: an API key (`Authorization: Bearer wharf_…`), a CLI user token (`Bearer wharfu_…`), a browser
 * session (cookie), or (on `wharf up`, from this machine only) the local owner. Then which organization it acts for
 * and what it may do there. Every failure is a problem that says nothing about other organizations.
 */
import { isRole, type Permission, parseToken, ROLE_PERMISSIONS, type Role } from '@wharf/contracts';
import { type apiKeys, type DatabasePool, organizations, sessions, users } from '@wharf/store';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../http/problem-error.js';
import type { KeyCache } from './key-cache.js';
import type { Acting, Principal } from './principal.js';
import { hashSecret } from './secrets.js';

export const SESSION_COOKIE = 'wharf_session';
export const ORGANIZATION_HEADER = 'wharf-organization';

export interface AuthDeps {
  pool: DatabasePool;
  pepper: Buffer;
  keys: KeyCache;
  /** The local owner (wharf up), when requests from this machine without credentials act as them. */
  localOwner: { tenantId: number; userId: number } | null;
  /** Key ids used since the last flush (last_used_at is written in batches). */
  used: Set<number>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

/** A request from this machine, to this machine by a loopback name, not sent by a web page of another origin. */
function fromThisMachine(req: FastifyRequest): boolean {
  if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) return false;
  if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return LOOPBACK_HOST.test(new URL(origin).host) && new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function bearer(req: FastifyRequest): string | null | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}

/** A key (or null: unknown or revoked) as the principal it makes, or the problem it is. */
function keyPrincipal(key: apiKeys.ActiveKey | null, deps: AuthDeps): Principal {
  if (!key) throw new ProblemError('invalid-credentials', 'unknown or revoked API key');
  if (key.expired || (key.expires_at !== null && Date.parse(key.expires_at) <= Date.now())) {
    throw new ProblemError('credentials-expired', `API key ${key.prefix} expired at ${key.expires_at}`);
  }
  deps.used.add(key.id);
  return {
    kind: 'key',
    keyId: key.id,
    tenantId: key.tenant_id,
    slug: key.slug,
    plan: key.plan,
    permissions: new Set(key.permissions as Permission[]),
    repositoryIds: key.repository_ids,
    actor: `key:${key.prefix} (${key.name})`,
  };
}

/**
 * The principal of a request whose API key the cache knows, without waiting for anything (the common case of
 * scripts and CI); undefined when `authenticate` must run.
 */
export function cachedKeyPrincipal(req: FastifyRequest, deps: AuthDeps): Principal | undefined {
  const token = bearer(req);
  if (!token || parseToken(token)?.kind !== 'apiKey') return undefined;
  const key = deps.keys.peek(hashSecret(deps.pepper, token));
  return key === undefined ? undefined : keyPrincipal(key, deps);
}

export async function authenticate(req: FastifyRequest, deps: AuthDeps): Promise<Principal | null> {
  const token = bearer(req);
  if (token === null) throw new ProblemError('invalid-credentials', 'the Authorization header must be `Bearer <token>`');
  if (token !== undefined) {
    const parsed = parseToken(token);
    if (!parsed) throw new ProblemError('invalid-credentials', 'that is not a Wharf key or token (wrong form or checksum)');
    const hash = hashSecret(deps.pepper, token);
    if (parsed.kind === 'apiKey') return keyPrincipal(await deps.keys.lookup(hash), deps);
    const session = await sessions.findLiveSession(deps.pool, hash, 'cli');
    if (!session) throw new ProblemError('invalid-credentials', 'unknown, expired or revoked token: run `wharf login` again');
    return userPrincipal(deps, session.user_id, 'cli', session.id, null);
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (cookie) {
    const session = await sessions.findLiveSession(deps.pool, hashSecret(deps.pepper, cookie), 'browser');
    if (!session) throw new ProblemError('invalid-credentials', 'the session has expired or was revoked: sign in again');
    return userPrincipal(deps, session.user_id, 'browser', session.id, session.csrf_secret);
  }
  if (deps.localOwner && fromThisMachine(req)) return userPrincipal(deps, deps.localOwner.userId, 'local', null, null);
  return null;
}

async function userPrincipal(deps: AuthDeps, userId: number, via: 'browser' | 'cli' | 'local', sessionId: number | null, csrfSecret: string | null): Promise<Principal> {
  const user = await users.getUser(deps.pool, userId);
  if (!user) throw new ProblemError('invalid-credentials', 'that user no longer exists');
  return { kind: 'user', userId, login: user.login, via, sessionId, csrfSecret, actor: via === 'local' ? 'local:owner' : `user:${user.login}` };
}

/** An API key acts for its own organization (a header naming another is refused). */
export function keyActing(req: FastifyRequest, principal: Principal & { kind: 'key' }): Acting {
  const asked = req.headers[ORGANIZATION_HEADER];
  const wanted = typeof asked === 'string' && asked.length > 0 ? asked : undefined;
  if (wanted !== undefined && wanted !== principal.slug && wanted !== String(principal.tenantId)) {
    throw new ProblemError('wrong-organization', 'an API key acts only for the organization that made it');
  }
  return { tenantId: principal.tenantId, slug: principal.slug, plan: principal.plan, role: null, permissions: principal.permissions, repositoryIds: principal.repositoryIds };
}

/** The organization the principal acts for: the key's own, or the person's (by header, or their only one). */
export async function resolveActing(req: FastifyRequest, principal: Principal, deps: AuthDeps): Promise<Acting> {
  const asked = req.headers[ORGANIZATION_HEADER];
  const wanted = typeof asked === 'string' && asked.length > 0 ? asked : undefined;
  if (principal.kind === 'key') return keyActing(req, principal);
  let org: organizations.Membership | null;
  if (wanted !== undefined) {
    if (wanted.length > 100) throw new ProblemError('validation-failed', 'Wharf-Organization is too long');
    org = await organizations.findUserOrganization(deps.pool, principal.userId, wanted);
    if (!org) throw new ProblemError('wrong-organization', `you are not a member of an organization "${wanted}"`);
  } else if (principal.via === 'local' && deps.localOwner) {
    org = await organizations.findUserOrganization(deps.pool, principal.userId, String(deps.localOwner.tenantId));
  } else {
    const all = await organizations.listUserOrganizations(deps.pool, principal.userId, { limit: 2 });
    if (all.length > 1) throw new ProblemError('organization-required', 'you belong to several organizations: send Wharf-Organization: <slug>');
    org = all[0] ?? null;
  }
  if (!org || !isRole(org.role)) throw new ProblemError('wrong-organization', 'you are not a member of any organization yet');
  const role: Role = org.role;
  return { tenantId: org.id, slug: org.slug, plan: org.plan, role, permissions: new Set(ROLE_PERMISSIONS[role]), repositoryIds: null };
}
