import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { RouteSpec } from '../config/app-config.js';
import { toFastifyPath } from '../modules/auth-jwt.js';
import { isJwtAuth } from '../modules/auth-jwt.js';
import type { ModuleSet } from '../modules/module.js';
import type { Pipeline } from '../pipeline/build-pipeline.js';
import { answerForError } from './answer-error.js';
import type { Metrics } from './metrics.js';

export type ServerDeps = {
  readonly pipelines: readonly Pipeline[];
  readonly routes: readonly RouteSpec[];
  readonly modules: ModuleSet;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly digest: string;
  readonly bodyLimit: number;
  readonly isReady: () => boolean;
};

// Loaded through require: under the tsx loader a CommonJS graph imported from ESM goes through the
// loader hooks file by file, which costs more start time than the require path.
const Fastify = createRequire(import.meta.url)('fastify') as typeof import('fastify').default;

const REQUEST_KEYS = new Set(['body', 'query', 'headers', 'path_params', 'method', 'path']);

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const toJson = (v: unknown) => JSON.stringify(v === undefined ? null : v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));

class BadBodyError extends Error {
  readonly statusCode = 400;
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadBodyError(`malformed JSON body: ${(err as Error).message}`);
  }
}

/** Sends JSON ourselves so strings and nulls are encoded as JSON too. */
function sendJson(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}) {
  reply.code(status).header('content-type', 'application/json; charset=utf-8');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.send(body === undefined ? '' : toJson(body));
}

/** Builds the Fastify app: health endpoints, pipeline routes, module routes, JSON errors and 404s. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { log, metrics } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    genReqId: () => randomUUID(),
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    try {
      done(null, text.trim() === '' ? undefined : JSON.parse(text));
    } catch {
      done(null, text);
    }
  });

  app.addHook('onResponse', (req, reply, done) => {
    const cfg = req.routeOptions.config as { routePath?: string } | undefined;
    metrics.request(cfg?.routePath ?? req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode);
    done();
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.error({ err, url: req.url }, 'request failed');
    const message = status === 413 ? 'request body too large' : status >= 500 ? 'internal error' : err.message;
    return sendJson(reply, status, { error: message });
  });
  app.setNotFoundHandler((req, reply) => sendJson(reply, 404, { error: 'not found', method: req.method, path: req.url.split('?')[0] }));

  app.get('/healthz', (_req, reply) => sendJson(reply, 200, { status: 'ok', digest: deps.digest }));
  app.get('/readyz', (_req, reply) => (deps.isReady() ? sendJson(reply, 200, { status: 'ready' }) : sendJson(reply, 503, { status: 'not ready' })));
  app.get('/metrics', (_req, reply) => reply.header('content-type', metrics.contentType).send(metrics.render()));

  const handlerFor = (pipeline: Pipeline, routePath: string, guard: ((req: FastifyRequest) => Promise<boolean>) | null) =>
    async function pipelineHandler(req: FastifyRequest, reply: FastifyReply) {
      if (guard && !(await guard(req))) return sendJson(reply, 401, { error: 'unauthorized' });
      const body = req.body;
      const path = req.url.split('?')[0];
      const trigger: Record<string, unknown> = {
        ...(isRecord(body) ? body : {}),
        body,
        query: req.query ?? {},
        headers: req.headers,
        path_params: req.params ?? {},
        method: req.method,
        path,
      };
      const meta = { pipeline: pipeline.name, started_at: new Date().toISOString(), request_id: req.id, method: req.method, path, route: routePath };
      try {
        const { answer, ctx } = await pipeline.run(trigger, meta, { pipeline: pipeline.name, log, headers: req.headers });
        if (answer) return sendJson(reply, answer.status, answer.body, answer.headers);
        // No json_response: answer with the final context, minus the request bookkeeping no step changed.
        const rest: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(ctx.current)) if (!(REQUEST_KEYS.has(k) && trigger[k] === v)) rest[k] = v;
        return sendJson(reply, 200, rest);
      } catch (err) {
        const { status, body: errBody } = answerForError(err, log.child({ request_id: req.id }));
        return sendJson(reply, status, errBody);
      }
    };

  const authGuard = (middlewares: readonly string[]) => {
    const auths = middlewares.map((m) => deps.modules.get(m)).filter(isJwtAuth);
    if (!auths.length) return null;
    return async (req: FastifyRequest) => {
      const h = req.headers.authorization ?? '';
      if (!h.startsWith('Bearer ')) return false;
      return !!(await auths[0].authenticate(h.slice(7)));
    };
  };

  for (const p of deps.pipelines) {
    if (p.spec.trigger?.type !== 'http') continue;
    const cfg = p.spec.trigger.config;
    const method = String(cfg.method ?? 'GET').toUpperCase();
    const path = String(cfg.path);
    app.route({ method: method as 'GET', url: toFastifyPath(path), config: { routePath: path }, handler: handlerFor(p, path, null) });
  }
  const byName = new Map(deps.pipelines.map((p) => [p.name, p]));
  for (const r of deps.routes) {
    const p = byName.get(r.handler);
    if (p) app.route({ method: r.method as 'GET', url: toFastifyPath(r.path), config: { routePath: r.path }, handler: handlerFor(p, r.path, authGuard(r.middlewares)) });
  }
  for (const m of deps.modules.all()) m.registerRoutes?.(app, deps.routes);
  return app;
}
