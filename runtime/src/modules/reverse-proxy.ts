import { Readable } from 'node:stream';
import type { ModuleSpec } from '../config/app-config.js';
import { parseDuration } from '../config/parse-duration.js';
import { OutboundRefusedError } from '../confine/outbound-policy.js';
import type { HttpAnswer, HttpRequest } from '../http/http-types.js';
import type { RouteHandlerModule } from './http-handler.js';
import { type ModuleDeps, whereInModule } from './module.js';

/** Bounds on what one config may declare, and on one proxied exchange. */
const MAX_BACKENDS = 64;
const MAX_ROUTES = 256;
const MAX_COMPOSITE_BACKENDS = 8;
const DEFAULT_TIMEOUT_MS = 30_000;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Hop-by-hop headers (RFC 9110 §7.6.1), which a proxy never forwards, plus what fetch sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);
/** The default backend leaves these to the runtime's own handlers, as the module does. */
const LOCAL_PREFIXES = ['/health', '/metrics', '/debug'];

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

type Route = { pattern: string; backends: string[]; composite: boolean };

/** The request's parsed body, sent on as the bytes it was read from as far as they survive parsing (JSON, form, text). */
function bodyOf(req: HttpRequest): string | undefined {
  if (req.body === undefined || req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (typeof req.body === 'string') return req.body;
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('x-www-form-urlencoded') && isRecord(req.body)) return new URLSearchParams(req.body as Record<string, string>).toString();
  return JSON.stringify(req.body);
}

/** The response body as a stream that errors once it passes `limit` bytes. */
function capped(body: ReadableStream<Uint8Array>, limit: number): Readable {
  return Readable.from(
    (async function* () {
      let size = 0;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > limit) throw new Error(`backend response larger than ${limit} bytes`);
        yield chunk;
      }
    })(),
  );
}

/**
 * reverseproxy: the modular framework's ReverseProxyModule, its routing core. Its config is the module's `config:`
 * over the file's top-level `reverseproxy:` section (as the upstream examples write it): `backend_services` (id →
 * base URL), `routes` (pattern → backend id, or "a, b" rotated round-robin), `composite_routes` (pattern →
 * `backends`, answered by the first backend, in order, that answers 2xx), `default_backend` (every other path but
 * /health, /metrics and /debug), `request_timeout` (or `timeout` in seconds). Requests go out only to hosts the
 * target allows (--allow-host), checked on every request; a backend nobody allowed is logged at start and answers
 * 502 naming the refusal. Redirects are passed back, never followed; responses are capped in size.
 */
export function createReverseProxy(spec: ModuleSpec, deps: ModuleDeps): RouteHandlerModule {
  const c = spec.config;
  const log = deps.log.child({ module: spec.name });
  const backends = new Map<string, URL>();
  const rawBackends = isRecord(c.backend_services) ? Object.entries(c.backend_services) : [];
  if (rawBackends.length > MAX_BACKENDS) throw new Error(`${whereInModule(spec, 'backend_services')}: ${rawBackends.length} backends, more than ${MAX_BACKENDS}`);
  for (const [id, raw] of rawBackends) {
    const where = `${whereInModule(spec, 'backend_services')}: backend ${id}`;
    if (typeof raw !== 'string' || raw === '') continue;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`${where}: "${raw}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${where}: only http and https backends are allowed, not ${url.protocol}`);
    if (url.username || url.password) throw new Error(`${where}: credentials in URLs are not allowed`);
    try {
      deps.outbound.checkUrl(raw, where);
    } catch (err) {
      log.warn({ backend: id, err: (err as Error).message }, 'requests to this backend will be refused');
    }
    backends.set(id, url);
  }
  const known = (ids: string[], key: string) => {
    for (const id of ids) if (!backends.has(id)) throw new Error(`${whereInModule(spec, key)}: backend "${id}" is not in backend_services`);
    return ids;
  };
  const routes: Route[] = [];
  for (const [pattern, target] of isRecord(c.routes) ? Object.entries(c.routes) : []) {
    routes.push({ pattern, backends: known(String(target).split(',').map((s) => s.trim()).filter(Boolean), `routes.${pattern}`), composite: false });
  }
  for (const [key, raw] of isRecord(c.composite_routes) ? Object.entries(c.composite_routes) : []) {
    if (!isRecord(raw)) continue;
    const ids = Array.isArray(raw.backends) ? raw.backends.map(String) : [];
    if (ids.length > MAX_COMPOSITE_BACKENDS) throw new Error(`${whereInModule(spec, `composite_routes.${key}`)}: ${ids.length} backends, more than ${MAX_COMPOSITE_BACKENDS}`);
    routes.push({ pattern: typeof raw.pattern === 'string' && raw.pattern ? raw.pattern : key, backends: known(ids, `composite_routes.${key}.backends`), composite: true });
  }
  if (routes.length > MAX_ROUTES) throw new Error(`${whereInModule(spec, 'routes')}: ${routes.length} routes, more than ${MAX_ROUTES}`);
  const defaultBackend = typeof c.default_backend === 'string' && c.default_backend ? known([c.default_backend], 'default_backend')[0] : undefined;
  const timeoutMs = Math.min(parseDuration(c.request_timeout) ?? parseDuration(c.timeout) ?? DEFAULT_TIMEOUT_MS, deps.limits.pipelineTimeoutMs);
  const turn = new Map<string, number>();

  async function forward(id: string, req: HttpRequest): Promise<HttpAnswer> {
    const base = backends.get(id) as URL;
    const target = new URL(base);
    target.pathname = `${base.pathname.replace(/\/$/, '')}${req.path}`;
    target.search = new URLSearchParams(Object.entries(req.query).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();
    const where = `module ${spec.name} (reverseproxy) backend ${id}`;
    let url: URL;
    try {
      url = deps.outbound.checkUrl(target.href, where);
    } catch (err) {
      if (!(err instanceof OutboundRefusedError)) throw err;
      return { status: 502, body: { error: err.message } };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    if (req.headers.host) headers['x-forwarded-host'] = String(req.headers.host);
    headers['x-forwarded-proto'] = 'http';
    try {
      const res = await fetch(url, { method: req.method, headers, body: bodyOf(req), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const out: Record<string, string> = {};
      // fetch has already decoded a compressed body: its encoding and length no longer describe what is sent.
      res.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v;
      });
      return { status: res.status, headers: out, stream: res.body ? capped(res.body, deps.limits.httpResponseBytes) : Readable.from([]) };
    } catch (err) {
      log.warn({ backend: id, err: (err as Error).message }, 'backend request failed');
      return { status: 502, body: { error: `backend ${id} did not answer` } };
    }
  }

  function pick(route: Route): string {
    const i = turn.get(route.pattern) ?? 0;
    turn.set(route.pattern, i + 1);
    return route.backends[i % route.backends.length] as string;
  }

  async function composite(route: Route, req: HttpRequest): Promise<HttpAnswer> {
    for (const [i, id] of route.backends.entries()) {
      const answer = await forward(id, req);
      if ((answer.status >= 200 && answer.status < 300) || i === route.backends.length - 1) return answer;
      answer.stream?.destroy();
    }
    return { status: 502, body: { error: 'no backend answered' } };
  }

  return {
    name: spec.name,
    type: spec.type,
    // A route or step.delegate naming the module: the default backend answers.
    handle: (req) => (defaultBackend ? forward(defaultBackend, req) : { status: 404, body: { error: 'no default backend' } }),
    registerRoutes(table) {
      for (const route of routes) {
        for (const method of METHODS) table.add(method, route.pattern, (req) => (route.composite ? composite(route, req) : forward(pick(route), req)));
      }
      if (!defaultBackend) return;
      const fallback = (req: HttpRequest) =>
        LOCAL_PREFIXES.some((p) => req.path === p || req.path.startsWith(`${p}/`)) ? { status: 404, body: { error: 'not found', method: req.method, path: req.path } } : forward(defaultBackend, req);
      for (const method of METHODS) if (!table.has?.(method, '/*')) table.add(method, '/*', fallback);
    },
  };
}
