/**
 * The REST API as a Fastify plugin: one route per entry of contracts' API_ROUTES, each run through the same steps:
 * request id → authenticate → organization → permission → rate limit → validate → idempotency → handler → ETag.
 * Every error leaves as application/problem+json (RFC 9457) with a stable code.
 */
import { createHash, randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import {
  type ApiRoute,
  API_ROUTES,
  checkApiSchema,
  compileApiSchema,
  fastifyPath,
  fieldErrors,
  PAGE_QUERY,
  PATH_PARAMS,
  pathParams,
  problem,
  type Problem,
} from '@wharf/contracts';
import { idempotency } from '@wharf/store';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, cachedKeyPrincipal, keyActing, resolveActing } from './auth/authenticate.js';
import type { Acting, Principal } from './auth/principal.js';
import { sameSecret } from './auth/secrets.js';
import type { ApiDeps } from './deps.js';
import type { Answer, Handler, HandlerContext } from './handler.js';
import { etagOf, matches } from './http/etag.js';
import { pageLimit } from './http/pagination.js';
import { ProblemError } from './http/problem-error.js';
import { planRate, PUBLIC_RATE } from './http/rate-limit.js';
import { withoutShownOnce } from './http/shown-once.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const UNSAFE = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

function sendProblem(reply: FastifyReply, p: Problem, requestId: string, headers: Record<string, string> = {}) {
  return reply
    .code(p.status)
    .headers(headers)
    .type('application/problem+json')
    .send({ ...p, requestId });
}

/** Fastify's own errors (body parsing, size) as problems. */
function problemOf(err: FastifyError): Problem {
  if (err instanceof ProblemError) return err.problem;
  const code = err.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problem('payload-too-large', 'at most 64 KiB');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problem('unsupported-media-type', err.message);
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code.includes('JSON') || err instanceof SyntaxError) return problem('malformed-json', err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return problem('validation-failed', err.message);
  return problem('internal', 'something went wrong on our side; the request id helps us find it');
}

const compiledQueries = new Map<string, ReturnType<typeof compileApiSchema>>();
function checkQuery(route: ApiRoute, query: Record<string, unknown>): void {
  const properties = { ...(route.query ?? {}), ...(route.paginated ? PAGE_QUERY : {}) };
  let validate = compiledQueries.get(route.operationId);
  if (!validate) {
    validate = compileApiSchema({ type: 'object', properties });
    compiledQueries.set(route.operationId, validate);
  }
  const known = Object.fromEntries(Object.entries(query).filter(([k]) => k in properties));
  for (const [k, v] of Object.entries(known)) if (Array.isArray(v)) throw new ProblemError('validation-failed', `query parameter ${k} given twice`, { errors: [{ field: `query.${k}`, message: 'given twice' }] });
  if (!validate(known)) throw new ProblemError('validation-failed', 'a query parameter is not valid', { errors: fieldErrors(validate.errors ?? [], 'query.') });
}

function checkParams(route: ApiRoute, params: Record<string, string>): void {
  for (const name of pathParams(route.path)) {
    const pattern = PATH_PARAMS[name]?.pattern;
    // An id that cannot exist is not found, as one of another organization is.
    if (typeof pattern === 'string' && !new RegExp(pattern).test(params[name] ?? '')) throw new ProblemError('not-found', `no such ${name} in this organization`);
  }
}

const allOptional = (route: ApiRoute): boolean => route.body === 'ActionRequest' || route.body === 'BillingPortal';

async function checkBody(route: ApiRoute, req: FastifyRequest): Promise<Record<string, unknown>> {
  if (!route.body) return {};
  const body = req.body === undefined || req.body === null ? (allOptional(route) ? {} : undefined) : req.body;
  if (body === undefined) throw new ProblemError('validation-failed', 'this request needs a JSON body', { errors: [{ field: '/', message: 'is required' }] });
  const errors = checkApiSchema(route.body, body);
  if (errors) throw new ProblemError('validation-failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
  return body as Record<string, unknown>;
}

function checkCsrf(req: FastifyRequest, principal: Principal): void {
  if (principal.kind !== 'user' || principal.via !== 'browser' || !UNSAFE.has(req.method)) return;
  const token = req.headers['x-csrf-token'];
  if (typeof token !== 'string' || !principal.csrfSecret || !sameSecret(token, principal.csrfSecret)) {
    throw new ProblemError('csrf-failed', 'send the csrfToken of GET /api/v1/session as X-CSRF-Token');
  }
}

async function rateLimit(deps: ApiDeps, route: ApiRoute, req: FastifyRequest, principal: Principal | null, acting: Acting | null): Promise<Record<string, string>> {
  if (route.access === 'public') return deps.limiter.take([{ bucket: `ip:${req.ip}`, ...PUBLIC_RATE }]);
  if (!principal || (principal.kind === 'user' && principal.via === 'local')) return {};
  const plan = acting?.plan ?? (principal.kind === 'key' ? principal.plan : 'free');
  const rate = planRate(plan);
  const who = principal.kind === 'key' ? `key:${principal.keyId}` : `user:${principal.userId}`;
  return deps.limiter.take([...(acting ? [{ bucket: `org:${acting.tenantId}`, ...rate }] : []), { bucket: who, ...rate }]);
}

const idempotencyPrincipal = (p: Principal): string => (p.kind === 'key' ? `key:${p.keyId}` : `user:${p.userId}`);

export function createApiPlugin(deps: ApiDeps, handlers: Record<string, Handler>, cookieSecret: string): FastifyPluginAsync {
  return async (app) => {
    await app.register(fastifyCookie, { secret: cookieSecret, hook: 'onRequest' });
    // Streams (live events, followed logs) never finish on their own: end them, or closing the server waits for
    // every open page (`wharf up` stuck in "stopping…" while a dashboard tab is open).
    const closing = new AbortController();
    app.addHook('preClose', async () => closing.abort());
    app.setErrorHandler((err: FastifyError, req, reply) => {
      const p = problemOf(err);
      if (p.status >= 500) deps.log.error({ err, url: req.url }, 'api request failed');
      const requestId = (reply.getHeader('x-request-id') as string | undefined) ?? randomUUID();
      return sendProblem(reply, p, requestId, err instanceof ProblemError ? err.headers : {});
    });
    app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('not-found', `no route ${req.method} ${req.url.split('?')[0]}`), randomUUID()));

    for (const route of API_ROUTES) {
      const handler = handlers[route.operationId];
      if (!handler) throw new Error(`no handler for ${route.operationId}`);
      app.route({
        method: route.method,
        url: fastifyPath(route.path),
        bodyLimit: 65_536,
        handler: async (req, reply) => {
          const given = req.headers['x-request-id'];
          const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
          reply.header('x-request-id', requestId);
          let principal: Principal | null = null;
          let acting: Acting | null = null;
          const authStarted = performance.now();
          if (route.access !== 'public') {
            // A cached key is known without waiting; anything else asks the database.
            principal = cachedKeyPrincipal(req, deps) ?? (await authenticate(req, deps));
            if (!principal) throw new ProblemError('unauthenticated', 'send Authorization: Bearer <API key>, or sign in');
            if (route.access === 'user' && principal.kind !== 'user') throw new ProblemError('permission-denied', 'only a signed-in person can do this, not an API key');
            checkCsrf(req, principal);
            if (route.access !== 'user' && route.access !== 'authenticated') {
              acting = principal.kind === 'key' ? keyActing(req, principal) : await resolveActing(req, principal, deps);
              if (!acting.permissions.has(route.access)) {
                throw new ProblemError('permission-denied', `this needs the ${route.access} permission`, { permission: route.access });
              }
            }
          }
          // What authentication cost (credential, organization, permission), for whoever measures it.
          reply.header('server-timing', `auth;dur=${(performance.now() - authStarted).toFixed(3)}`);
          const rateHeaders = await rateLimit(deps, route, req, principal, acting);
          reply.headers(rateHeaders);
          const params = req.params as Record<string, string>;
          checkParams(route, params);
          const query = (req.query ?? {}) as Record<string, string | undefined>;
          checkQuery(route, query);
          const body = await checkBody(route, req);
          const ctx: HandlerContext = {
            route,
            req,
            reply,
            deps,
            principal,
            acting,
            params,
            query,
            body,
            requestId,
            ip: req.ip,
            limit: route.paginated ? pageLimit(query.limit) : 0,
            closing: closing.signal,
          };
          const key = req.headers['idempotency-key'];
          let answer: Answer;
          if (route.idempotent && typeof key === 'string' && acting && principal) {
            if (key.length === 0 || key.length > 200) throw new ProblemError('validation-failed', 'Idempotency-Key is 1–200 characters');
            answer = await withIdempotency(ctx, { tenantId: acting.tenantId }, idempotencyPrincipal(principal), key, handler);
          } else {
            answer = await handler(ctx);
          }
          if ('streamed' in answer) return reply;
          reply.code(answer.status).headers(answer.headers ?? {});
          if (answer.body === undefined) return reply.send();
          if (answer.status >= 400) return reply.type('application/problem+json').send(JSON.stringify(answer.body));
          const text = JSON.stringify(answer.body);
          if (req.method === 'GET' && answer.status === 200) {
            const etag = etagOf(text);
            reply.header('etag', etag).header('cache-control', 'private, no-cache');
            if (matches(req.headers['if-none-match'], etag)) return reply.code(304).send();
          }
          return reply.type('application/json; charset=utf-8').send(text);
        },
      });
    }
  };
}

/** Runs an acting POST once per Idempotency-Key: retries with the same key and request get the first answer. */
async function withIdempotency(ctx: HandlerContext, scope: { tenantId: number }, principal: string, key: string, handler: Handler): Promise<Answer> {
  const requestHash = createHash('sha256').update(`${ctx.req.method} ${ctx.req.url.split('?')[0]}\n${JSON.stringify(ctx.body)}`).digest('hex');
  const claim = await idempotency.claimIdempotencyKey(ctx.deps.pool, scope, { principal, key, requestHash });
  if (claim.kind === 'mismatch') throw new ProblemError('idempotency-key-reused', 'this key was sent with another request; use a new key');
  if (claim.kind === 'in-progress') throw new ProblemError('idempotency-in-progress', 'retry in a moment');
  if (claim.kind === 'replay') return { status: claim.status, body: claim.body ?? undefined, headers: { 'idempotent-replayed': 'true' } };
  try {
    const answer = await handler(ctx);
    if ('streamed' in answer) return answer;
    await idempotency.completeIdempotencyKey(ctx.deps.pool, scope, { principal, key, status: answer.status, body: withoutShownOnce(ctx.route, answer.body ?? null) });
    return answer;
  } catch (err) {
    if (err instanceof ProblemError && err.problem.status < 500) {
      await idempotency.completeIdempotencyKey(ctx.deps.pool, scope, { principal, key, status: err.problem.status, body: { ...err.problem, requestId: ctx.requestId } });
    } else {
      await idempotency.releaseIdempotencyKey(ctx.deps.pool, scope, { principal, key }).catch(() => undefined);
    }
    throw err;
  }
}
