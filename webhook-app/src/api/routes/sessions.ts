/**
 * Sessions: signing in with GitHub (browser: HTTP-only cookie, CSRF token; CLI: device flow, a user token), who is
 * signed in, signing out and revoking sessions. A person who administers an installation's GitHub account becomes an
 * owner of the organization that holds it; someone with no organization gets one of their own.
 */
import { AUDIT_ACTIONS, ROLE_PERMISSIONS, WHARF_COOKIES, isRole } from '@wharf/contracts';
import { audit, type DatabasePool, memberships, organizations, sessions, users } from '@wharf/store';
import { SESSION_COOKIE } from '../auth/authenticate.js';
import type { GitHubSignIn } from '../auth/github-sign-in.js';
import { hashSecret, newToken, randomSecret, sameSecret } from '../auth/secrets.js';
import type { ApiDeps } from '../deps.js';
import { type Handler, type HandlerContext, idParam, principalOf } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { notFound, ProblemError } from '../http/problem-error.js';
import { organizationView, sessionInfoView, userView } from '../views.js';

const STATE_COOKIE = WHARF_COOKIES.oauthState;
const CLI_TOKEN_SECONDS = 30 * 86_400;

function github(deps: ApiDeps): GitHubSignIn {
  if (!deps.github) throw new ProblemError('sign-in-unavailable', 'set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the GitHub App’s OAuth client)');
  return deps.github;
}

const callbackUrl = (ctx: HandlerContext): string => `${ctx.req.protocol}://${ctx.req.host}/api/v1/auth/github/callback`;

/** A path on this Wharf, never another site (`//evil`, `https://…`, `/\evil`). */
const safeNext = (next: string | undefined): string => (next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/');

/** The Wharf user of a GitHub token, owner of the organizations holding installations they administer. */
export async function signInUser(pool: DatabasePool, gh: GitHubSignIn, token: string, meta: { requestId: string; ip: string }) {
  const who = await gh.user(token);
  const user = await users.upsertGithubUser(pool, { githubId: who.id, login: who.login, name: who.name });
  const entry = (tenantId: number, action: typeof AUDIT_ACTIONS.memberAdd | typeof AUDIT_ACTIONS.organizationCreate, details: Record<string, unknown>) => ({
    tenantId,
    actor: `user:${who.login}`,
    actorKind: 'user' as const,
    action,
    subject: `user:${who.login}`,
    reason: 'signed in with GitHub',
    details,
    requestId: meta.requestId,
    sourceIp: meta.ip,
  });
  for (const inst of await gh.installations(token)) {
    const org = await organizations.findInstallationOrganization(pool, String(inst.id));
    if (!org) continue;
    const administers =
      inst.account.type === 'User' ? inst.account.login.toLowerCase() === who.login.toLowerCase() : (await gh.organizationRole(token, inst.account.login)) === 'admin';
    if (!administers) continue;
    await pool.transaction(async (tx) => {
      if (await memberships.addMember(tx, org, user.id, 'owner')) {
        await audit.recordAudit(tx, [{ ...entry(org.tenantId, AUDIT_ACTIONS.memberAdd, { installation: inst.id, account: inst.account.login }), after: { role: 'owner' } }]);
      }
    });
  }
  if ((await organizations.listUserOrganizations(pool, user.id, { limit: 1 })).length === 0) {
    await pool.transaction(async (tx) => {
      const org = await organizations.createTeamOrganization(tx, { name: who.login, ownerUserId: user.id, externalId: `user:${who.id}` });
      await audit.recordAudit(tx, [entry(org.tenantId, AUDIT_ACTIONS.organizationCreate, { owner: who.login })]);
    });
  }
  return user;
}

const signInWithGitHub: Handler = async (ctx) => {
  const gh = github(ctx.deps);
  const state = randomSecret(24);
  ctx.reply.setCookie(STATE_COOKIE, `${state}|${safeNext(ctx.query.next)}`, {
    signed: true,
    httpOnly: true,
    secure: ctx.deps.cookieSecure,
    sameSite: 'lax',
    path: '/api/v1/auth/github',
    maxAge: 600,
  });
  return { status: 302, headers: { location: gh.authorizeUrl({ state, redirectUri: callbackUrl(ctx) }) } };
};

const gitHubCallback: Handler = async (ctx) => {
  const gh = github(ctx.deps);
  const raw = ctx.req.cookies[STATE_COOKIE];
  const unsigned = raw ? ctx.req.unsignCookie(raw) : { valid: false, value: null };
  ctx.reply.clearCookie(STATE_COOKIE, { path: '/api/v1/auth/github' });
  const [state, next] = (unsigned.valid && unsigned.value ? unsigned.value : '|').split('|');
  if (!state || !ctx.query.state || !sameSecret(state, ctx.query.state)) throw new ProblemError('sign-in-failed', 'the sign-in state does not match: start again');
  if (!ctx.query.code) throw new ProblemError('sign-in-failed', 'GitHub sent no code');
  const token = await gh.exchangeCode({ code: ctx.query.code, redirectUri: callbackUrl(ctx) });
  const user = await signInUser(ctx.deps.pool, gh, token, { requestId: ctx.requestId, ip: ctx.ip });
  const secret = randomSecret();
  const ttl = ctx.deps.sessionHours * 3600;
  await sessions.createSession(ctx.deps.pool, {
    userId: user.id,
    kind: 'browser',
    tokenHash: hashSecret(ctx.deps.pepper, secret),
    csrfSecret: randomSecret(),
    ttlSeconds: ttl,
    userAgent: ctx.req.headers['user-agent'] ?? null,
    ip: ctx.ip,
  });
  ctx.reply.setCookie(SESSION_COOKIE, secret, { httpOnly: true, secure: ctx.deps.cookieSecure, sameSite: 'lax', path: '/', maxAge: ttl });
  return { status: 302, headers: { location: safeNext(next) } };
};

const startDeviceLogin: Handler = async (ctx) => ({ status: 200, body: await github(ctx.deps).deviceCode() });

const finishDeviceLogin: Handler = async (ctx) => {
  const gh = github(ctx.deps);
  const polled = await gh.pollDevice(String(ctx.body.deviceCode));
  if ('pending' in polled) throw new ProblemError(polled.pending);
  const user = await signInUser(ctx.deps.pool, gh, polled.token, { requestId: ctx.requestId, ip: ctx.ip });
  const token = newToken('userToken');
  const session = await sessions.createSession(ctx.deps.pool, {
    userId: user.id,
    kind: 'cli',
    tokenHash: hashSecret(ctx.deps.pepper, token),
    csrfSecret: randomSecret(),
    ttlSeconds: CLI_TOKEN_SECONDS,
    userAgent: ctx.req.headers['user-agent'] ?? null,
    ip: ctx.ip,
  });
  return { status: 200, body: { token, user: userView(user), expiresAt: session.expires_at } };
};

const getSession: Handler = async (ctx) => {
  const p = principalOf(ctx);
  if (p.kind !== 'user') throw new ProblemError('permission-denied');
  const user = await users.getUser(ctx.deps.pool, p.userId);
  if (!user) throw notFound('user');
  const orgs = await organizations.listUserOrganizations(ctx.deps.pool, p.userId, { limit: 100 });
  const session = p.sessionId ? (await sessions.listUserSessions(ctx.deps.pool, p.userId, { limit: 1000 })).find((s) => s.id === p.sessionId) : undefined;
  return {
    status: 200,
    body: {
      user: userView(user),
      organizations: orgs.map((o) => organizationView(o, isRole(o.role) ? o.role : null, isRole(o.role) ? ROLE_PERMISSIONS[o.role] : [])),
      csrfToken: p.via === 'browser' ? p.csrfSecret : null,
      expiresAt: session?.expires_at ?? null,
      via: p.via,
    },
  };
};

const signOut: Handler = async (ctx) => {
  const p = principalOf(ctx);
  if (p.kind === 'user' && p.sessionId) await sessions.revokeSession(ctx.deps.pool, p.userId, p.sessionId);
  ctx.reply.clearCookie(SESSION_COOKIE, { path: '/' });
  return { status: 204 };
};

const listSessions: Handler = async (ctx) => {
  const p = principalOf(ctx);
  if (p.kind !== 'user') throw new ProblemError('permission-denied');
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await sessions.listUserSessions(ctx.deps.pool, p.userId, { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, (s) => sessionInfoView(s, p.sessionId), (s) => [s.id]) };
};

const revokeSession: Handler = async (ctx) => {
  const p = principalOf(ctx);
  if (p.kind !== 'user' || !(await sessions.revokeSession(ctx.deps.pool, p.userId, idParam(ctx)))) throw notFound('session');
  return { status: 204 };
};

export const sessionHandlers = { signInWithGitHub, gitHubCallback, startDeviceLogin, finishDeviceLogin, getSession, signOut, listSessions, revokeSession } satisfies Record<string, Handler>;
