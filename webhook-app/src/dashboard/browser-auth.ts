/**
 * Who asks the dashboard's own endpoints (`/dashboard/api/…`): a person with a browser session (cookie, CSRF token on
 * POST) or, on `wharf up`, the local owner from this machine: the same rules and code as the REST API's, through its
 * `authenticate` and `resolveActing`. API keys are refused here: these endpoints serve the page, scripts use /api/v1.
 */
import { type Permission, problem, type ProblemCode } from '@wharf/contracts';
import type { DatabasePool } from '@wharf/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, resolveActing } from '../api/auth/authenticate.js';
import type { KeyCache } from '../api/auth/key-cache.js';
import type { Acting } from '../api/auth/principal.js';
import { sameSecret } from '../api/auth/secrets.js';
import { enforceRateLimit, planRate } from '../api/http/rate-limit.js';
import { ProblemError } from '../api/http/problem-error.js';

export interface BrowserAuthDeps {
  pool: DatabasePool;
  pepper: Buffer;
  localOwner: { tenantId: number; userId: number } | null;
}

export interface BrowserCaller {
  acting: Acting;
  /** For the audit log: `user:octocat`, `local:owner`. */
  actor: string;
  login: string;
}

/** Keys never reach this cache: requests with an Authorization header are refused first. */
const NO_KEYS: KeyCache = { peek: () => undefined, lookup: async () => null, forget: () => undefined, clear: () => undefined, size: () => 0 };

export async function browserCaller(req: FastifyRequest, deps: BrowserAuthDeps, needs: Permission): Promise<BrowserCaller> {
  if (req.headers.authorization !== undefined) {
    throw new ProblemError('invalid-credentials', "the dashboard's endpoints take the browser session only; scripts use /api/v1 with a key");
  }
  const principal = await authenticate(req, { pool: deps.pool, pepper: deps.pepper, keys: NO_KEYS, localOwner: deps.localOwner, used: new Set() });
  if (!principal) throw new ProblemError('unauthenticated', 'sign in');
  if (principal.kind !== 'user') throw new ProblemError('permission-denied', 'only a signed-in person can do this');
  if (req.method !== 'GET' && principal.via === 'browser') {
    const token = req.headers['x-csrf-token'];
    if (typeof token !== 'string' || !principal.csrfSecret || !sameSecret(token, principal.csrfSecret)) {
      throw new ProblemError('csrf-failed', 'send the csrfToken of GET /api/v1/session as X-CSRF-Token');
    }
  }
  const acting = await resolveActing(req, principal, { pool: deps.pool, pepper: deps.pepper, keys: NO_KEYS, localOwner: deps.localOwner, used: new Set() });
  if (!acting.permissions.has(needs)) throw new ProblemError('permission-denied', `this needs the ${needs} permission`, { permission: needs });
  if (principal.via !== 'local') {
    const rate = planRate(acting.plan);
    await enforceRateLimit(deps.pool, [
      { bucket: `org:${acting.tenantId}`, ...rate },
      { bucket: `user:${principal.userId}`, ...rate },
    ]);
  }
  return { acting, actor: principal.actor, login: principal.login };
}

/** Errors as the API sends them (problem+json with a stable code), so the page handles both alike. */
export function sendProblem(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ProblemError) {
    return reply.code(err.problem.status).headers(err.headers ?? {}).type('application/problem+json').send(err.problem);
  }
  const code: ProblemCode = 'internal';
  return reply.code(500).type('application/problem+json').send(problem(code, 'something went wrong on our side; try again'));
}
