import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RouteSpec } from '../config/app-config.js';
import { isJwtAuth } from '../modules/auth-jwt.js';
import type { ModuleSet } from '../modules/module.js';
import type { Pipeline } from '../pipeline/build-pipeline.js';
import { answerForError } from './answer-error.js';
import type { HttpAnswer, HttpHandler, HttpRequest } from './http-types.js';
import type { Metrics } from './metrics.js';
import { BodyError, readBody } from './read-body.js';
import { createRouter } from './router.js';

export type ServerDeps = {
  readonly pipelines: readonly Pipeline[];
  readonly routes: readonly RouteSpec[];
  readonly modules: ModuleSet;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly digest: string;
  readonly bodyLimit: number;
  readonly isReady: () => boolean;
  readonly isClosing: () => boolean;
};

const REQUEST_KEYS = new Set(['body', 'query', 'headers', 'path_params', 'method', 'path']);
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
/** JSON without a replacer (much faster); only a value holding a bigint takes the slow path. */
function toJson(v: unknown): string {
  try {
    return JSON.stringify(v === undefined ? null : v);
  } catch {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));
  }
}

function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!search) return out;
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function send(res: ServerResponse, method: string, answer: HttpAnswer, closing: boolean): void {
  const headers: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(answer.headers ?? {})) headers[k.toLowerCase()] = v;
  if (closing) headers.connection = 'close';
  if (answer.stream) {
    res.writeHead(answer.status, headers);
    if (method === 'HEAD') {
      answer.stream.destroy();
      res.end();
    } else answer.stream.pipe(res);
    return;
  }
  const payload = answer.body === undefined ? '' : toJson(answer.body);
  headers['content-type'] ??= 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(answer.status, headers);
  res.end(method === 'HEAD' ? undefined : payload);
}

/** Builds the HTTP server: health endpoints, pipeline routes, module routes, JSON errors and 404s. */
export function buildServer(deps: ServerDeps): Server {
  const { log, metrics } = deps;
  const router = createRouter();

  router.add('GET', '/healthz', () => ({ status: 200, body: { status: 'ok', digest: deps.digest } }));
  router.add('GET', '/readyz', () => (deps.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } }));
  router.add('GET', '/metrics', () => ({ status: 200, headers: { 'content-type': metrics.contentType }, text: metrics.render() }));

  const pipelineHandler = (pipeline: Pipeline, routePath: string, guard: ((req: HttpRequest) => Promise<boolean>) | null): HttpHandler =>
    async (req) => {
      if (guard && !(await guard(req))) return { status: 401, body: { error: 'unauthorized' } };
      const body = req.body;
      const trigger: Record<string, unknown> = {
        ...(isRecord(body) ? body : {}),
        body,
        query: req.query,
        headers: req.headers,
        path_params: req.params,
        method: req.method,
        path: req.path,
      };
      const meta = { pipeline: pipeline.name, started_at: new Date().toISOString(), request_id: req.id, method: req.method, path: req.path, route: routePath };
      try {
        const { answer, ctx } = await pipeline.run(trigger, meta, { pipeline: pipeline.name, log, headers: req.headers });
        if (answer) return { status: answer.status, headers: answer.headers, body: answer.body };
        // No json_response: answer with the final context, minus the request bookkeeping no step changed.
        const rest: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(ctx.current)) if (!(REQUEST_KEYS.has(k) && trigger[k] === v)) rest[k] = v;
        return { status: 200, body: rest };
      } catch (err) {
        const { status, body: errBody } = answerForError(err, log.child({ request_id: req.id }));
        return { status, body: errBody };
      }
    };

  const authGuard = (middlewares: readonly string[]) => {
    const auth = middlewares.map((m) => deps.modules.get(m)).find(isJwtAuth);
    if (!auth) return null;
    return async (req: HttpRequest) => {
      const h = req.headers.authorization ?? '';
      return h.startsWith('Bearer ') && !!(await auth.authenticate(h.slice(7)));
    };
  };

  for (const p of deps.pipelines) {
    if (p.spec.trigger?.type !== 'http') continue;
    const cfg = p.spec.trigger.config;
    router.add(String(cfg.method ?? 'GET'), String(cfg.path), pipelineHandler(p, String(cfg.path), null));
  }
  const byName = new Map(deps.pipelines.map((p) => [p.name, p]));
  for (const r of deps.routes) {
    const p = byName.get(r.handler);
    if (p) router.add(r.method, r.path, pipelineHandler(p, r.path, authGuard(r.middlewares)));
  }
  for (const m of deps.modules.all()) m.registerRoutes?.(router, deps.routes);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = router.find(method, path);
    let answer: HttpAnswer;
    let route = 'unmatched';
    if (!match) {
      req.resume();
      answer = { status: 404, body: { error: 'not found', method, path } };
    } else {
      route = match.pattern;
      try {
        const body = BODYLESS.has(method) && !req.headers['content-length'] && !req.headers['transfer-encoding'] ? undefined : await readBody(req, deps.bodyLimit);
        const request: HttpRequest = { id: randomUUID(), method, path, query: parseQuery(q < 0 ? '' : url.slice(q + 1)), headers: req.headers, params: match.params, body };
        answer = await match.handler(request);
      } catch (err) {
        if (err instanceof BodyError) {
          answer = { status: err.status, body: { error: err.message }, headers: err.status === 413 ? { connection: 'close' } : {} };
        } else {
          log.error({ err, method, path }, 'request failed');
          answer = { status: 500, body: { error: 'internal error' } };
        }
      }
    }
    const text = answer.text;
    if (text !== undefined) {
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(text), ...(deps.isClosing() ? { connection: 'close' } : {}) });
      res.end(text);
    } else send(res, method, answer, deps.isClosing());
    metrics.request(route, method, answer.status);
  }

  return createServer({ keepAliveTimeout: 72_000 }, (req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request handling crashed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal error"}');
    });
  });
}
