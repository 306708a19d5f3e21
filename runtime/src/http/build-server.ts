import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { RUNTIME_EXPECT_DIGEST_HEADER, RUNTIME_HEALTH_PATH, RUNTIME_RESERVED_PREFIX } from '@wharf/contracts/runtime-protocol';
import type { AppConfig } from '../config/app-config.js';
import { isRouteHandler } from '../modules/http-handler.js';
import { isMiddleware } from '../modules/auth-middleware.js';
import type { ModuleSet } from '../modules/module.js';
import type { Pipeline } from '../pipeline/build-pipeline.js';
import type { HttpAnswer, HttpGuard, HttpHandler, HttpRequest, RouteTable } from './http-types.js';
import type { Metrics } from './metrics.js';
import { answerWithPipeline, triggerData } from './pipeline-answer.js';
import { BodyError, readBody } from './read-body.js';
import { createRouter, normalizePath } from './router.js';

export type HealthReport = { status: 'ok' | 'failed'; digest: string; stateful: boolean; dataFiles: readonly string[]; error?: string };

export type ServerDeps = {
  readonly pipelines: readonly Pipeline[];
  readonly config: Pick<AppConfig, 'routes' | 'triggers'>;
  readonly modules: ModuleSet;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Resolves once the runtime is fully ready (its databases open); 'failed' when it never will be. */
  readonly health: () => Promise<HealthReport>;
  readonly bodyLimit: number;
  readonly isReady: () => boolean;
  readonly isClosing: () => boolean;
};

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
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
    // A stream that fails midway (a proxied answer past its size limit) ends the connection: the client sees a
    // cut-off response, never one that looks complete.
    answer.stream.once('error', () => res.destroy());
    res.writeHead(answer.status, headers);
    if (method === 'HEAD') {
      answer.stream.destroy();
      res.end();
    } else answer.stream.pipe(res);
    return;
  }
  let payload: string;
  if (answer.text !== undefined) {
    payload = answer.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else if (answer.body === undefined) {
    payload = '';
  } else {
    payload = toJson(answer.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(answer.status, headers);
  res.end(method === 'HEAD' || answer.status === 204 || answer.status === 304 ? undefined : payload);
}

const isReserved = (path: string) => `${normalizePath(path)}/`.startsWith(RUNTIME_RESERVED_PREFIX);

/** Routes under /.wharf/ are Wharf's; an app declaring one is refused at start. */
export function reservedRouteProblems(paths: readonly { method: string; path: string; where: string }[]): string[] {
  return paths
    .filter((r) => isReserved(r.path))
    .map((r) => `${r.where}: route ${r.method} ${r.path} is under ${RUNTIME_RESERVED_PREFIX}, which is reserved for Wharf`);
}

/**
 * Builds the HTTP server: Wharf's own endpoints under /.wharf/, the app's pipeline routes, trigger routes, module
 * routes, JSON errors and 404s. The app's routes win: /healthz, /readyz and /metrics answer as the app declared
 * them, and only when it declares none does the runtime answer them itself.
 */
export function buildServer(deps: ServerDeps): Server {
  const { log, metrics } = deps;
  const inner = createRouter();
  let addingWharfRoutes = true;
  const declared = new Set<string>();
  // As in the engine's router: the same method and path declared twice answers with the first declaration (the
  // second is logged and skipped); two patterns that differ only in parameter names are refused.
  const router: RouteTable & { has(method: string, pattern: string): boolean } = {
    add(method, pattern, handler) {
      const key = `${method.toUpperCase()} ${normalizePath(pattern)}`;
      if (!addingWharfRoutes && isReserved(pattern)) throw new Error(`route ${method.toUpperCase()} ${pattern} is under ${RUNTIME_RESERVED_PREFIX}, which is reserved for Wharf`);
      if (declared.has(key)) {
        log.warn({ method: method.toUpperCase(), path: pattern }, 'route declared twice; the first declaration answers');
        return;
      }
      if (inner.has(method, pattern)) throw new Error(`route ${method.toUpperCase()} ${pattern} conflicts with another route that differs only in parameter names`);
      declared.add(key);
      inner.add(method, pattern, handler);
    },
    has: (method, pattern) => inner.has(method, pattern),
  };
  const byName = new Map(deps.pipelines.map((p) => [p.name, p]));

  const guardOf = (middlewares: readonly string[]): HttpGuard | null => {
    const guards = middlewares.map((m) => deps.modules.get(m)).filter(isMiddleware).map((m) => m.guard);
    if (!guards.length) return null;
    return async (req) => {
      for (const g of guards) {
        const denied = await g(req);
        if (denied) return denied;
      }
      return null;
    };
  };
  const guarded = (handler: HttpHandler, guard: HttpGuard | null): HttpHandler =>
    guard ? async (req) => (await guard(req)) ?? (await handler(req)) : handler;

  const healthz = async (req?: HttpRequest) => {
    const report = await deps.health();
    // A probe that asks for one digest (Kubernetes readiness) gets 503 from a runtime serving another.
    const expected = req?.headers[RUNTIME_EXPECT_DIGEST_HEADER];
    if (typeof expected === 'string' && expected !== report.digest) return { status: 503, body: { ...report, status: 'failed', error: `serving digest ${report.digest}, not ${expected}` } };
    return { status: report.status === 'ok' ? 200 : 503, body: report };
  };
  const readyz = () => (deps.isReady() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } });
  const metricsText = () => ({ status: 200, headers: { 'content-type': metrics.contentType }, text: metrics.render() });
  router.add('GET', RUNTIME_HEALTH_PATH, healthz);
  router.add('GET', `${RUNTIME_RESERVED_PREFIX}readyz`, readyz);
  router.add('GET', `${RUNTIME_RESERVED_PREFIX}metrics`, metricsText);
  // Wharf's own routes come first and nothing the app declares may shadow them.
  addingWharfRoutes = false;

  for (const p of deps.pipelines) {
    if (p.spec.trigger?.type !== 'http') continue;
    const cfg = p.spec.trigger.config;
    const path = String(cfg.path);
    router.add(String(cfg.method ?? 'GET'), path, (req) => answerWithPipeline(p, req, { path }, triggerData(req, 'pipeline'), log));
  }
  for (const t of deps.config.triggers.http) {
    const p = byName.get(t.pipeline);
    if (p) router.add(t.method, t.path, (req) => answerWithPipeline(p, req, t, triggerData(req, 'trigger', t.params), log));
  }
  for (const r of deps.config.routes) {
    const p = byName.get(r.handler);
    const m = deps.modules.get(r.handler);
    if (p) router.add(r.method, r.path, guarded((req) => answerWithPipeline(p, req, r, triggerData(req, 'pipeline'), log), guardOf(r.middlewares)));
    else if (isRouteHandler(m)) router.add(r.method, r.path, guarded((req) => m.handle(req), guardOf(r.middlewares)));
  }
  for (const m of deps.modules.all()) m.registerRoutes?.(router, deps.config.routes);

  // Fallbacks for runtimes probed the old way; the app's own routes of the same paths win (they are declared by now).
  if (!router.has('GET', '/healthz')) router.add('GET', '/healthz', healthz);
  if (!router.has('GET', '/readyz')) router.add('GET', '/readyz', readyz);
  if (!router.has('GET', '/metrics')) router.add('GET', '/metrics', metricsText);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const found = inner.find(method, path);
    // Nothing under /.wharf/ reaches the app, not even through a wildcard route (a static root's own .wharf/ folder).
    const match = found && isReserved(path) && !isReserved(found.pattern) ? null : found;
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
    send(res, method, answer, deps.isClosing());
    metrics.request(route, method, answer.status);
  }

  return createServer({ keepAliveTimeout: 72_000, requestTimeout: 60_000, headersTimeout: 30_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err }, 'request handling crashed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"internal error"}');
    });
  });
}
