/**
 * The local router: every environment answers at `http://<label>.localhost:<port>/` and
 * `http://127.0.0.1:<port>/<label>/`, where the label is derived from the environment's identity (host-label.ts);
 * the local owner's environments also keep the friendly label `<env>--<app>` (host and path) and `/<app>/<env>/`. Requests go to
 * the environment's current runtime over keep-alive connections. A swap replaces an upstream atomically; requests
 * already sent to the old one finish there (in-flight counts let it drain before it stops). While a stateful
 * environment swaps stop-then-start, its requests wait (bounded in number and time) instead of failing.
 * The router serves nothing of its own: an unknown host or path is a 404 that names nothing. It forwards no cookie
 * of Wharf's own (the session): the browser sends it to these hosts too.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { withoutWharfCookies } from '@wharf/contracts';
import type { Logger } from 'pino';

export interface Upstream {
  port: number;
  agent: http.Agent;
  inFlight: number;
}

export function createUpstream(port: number): Upstream {
  return { port, agent: new http.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1_000 }), inFlight: 0 };
}

export interface RouteSpec {
  envId: number;
  /** The environment's label: `<label>.localhost` and `/<label>/`. */
  label: string;
  /** The local owner's friendly names: host label `<env>--<app>` and path `<app>/<env>`. */
  friendly: { label: string; path: string } | null;
  upstream: Upstream | null;
  /** Shown when there is no upstream (crashed, restarting). */
  unavailable: string;
}

interface Route extends RouteSpec {
  /** A stop-then-start swap is under way: requests wait for the next upstream. */
  holding: boolean;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  /** `http://<label>.localhost:<port>/` */
  urlFor(label: string): string;
  /** Route the environment (null upstream: answer 503 with `unavailable`). */
  set(route: RouteSpec): void;
  /** Requests for the label wait (at most `holdTimeoutMs`) until the next `set` with an upstream, or `remove`. */
  hold(label: string): void;
  remove(label: string): void;
  close(): Promise<void>;
}

export interface RouterOptions {
  port: number;
  host?: string;
  log: Logger;
  /** How long a request waits for a stop-then-start swap. Default 30 s. */
  holdTimeoutMs?: number;
  /** Requests that may wait at once, over every environment. Default 1000. */
  maxHeld?: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const NOT_FOUND = 'no environment here\n';

export async function createRouter(options: RouterOptions): Promise<Router> {
  const byLabel = new Map<string, Route>();
  /** Host labels and path keys (`<label>` or `<app>/<env>`) → route. */
  const byHost = new Map<string, Route>();
  const byPath = new Map<string, Route>();
  const waiting = new Map<string, Set<() => void>>();
  let held = 0;
  const holdTimeoutMs = options.holdTimeoutMs ?? 30_000;
  const maxHeld = options.maxHeld ?? 1_000;
  const log = options.log.child({ component: 'router' });

  const wakeWaiters = (label: string) => {
    const set = waiting.get(label);
    if (!set) return;
    waiting.delete(label);
    for (const resume of set) resume();
  };

  const unavailable = (res: http.ServerResponse, message: string) => {
    if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
    res.end(`${message}\n`);
  };

  /** Waits for the route's next upstream, then proxies (or answers 404/503). */
  const waitForUpstream = (req: http.IncomingMessage, res: http.ServerResponse, label: string, path: string, prefix: string) => {
    if (held >= maxHeld) return unavailable(res, 'environment is restarting');
    held++;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      held--;
      clearTimeout(timer);
      waiting.get(label)?.delete(resume);
      return true;
    };
    const resume = () => {
      if (!finish()) return;
      const route = byLabel.get(label);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(NOT_FOUND);
        return;
      }
      proxy(req, res, route, path, prefix);
    };
    const timer = setTimeout(() => {
      if (finish()) unavailable(res, 'environment is restarting');
    }, holdTimeoutMs);
    res.on('close', finish);
    let set = waiting.get(label);
    if (!set) waiting.set(label, (set = new Set()));
    set.add(resume);
  };

  const proxy = (req: http.IncomingMessage, res: http.ServerResponse, route: Route, path: string, prefix: string): void => {
    const upstream = route.upstream;
    if (!upstream) {
      if (route.holding) return waitForUpstream(req, res, route.label, path, prefix);
      return unavailable(res, route.unavailable);
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    // The browser sends Wharf's session with requests to `127.0.0.1` and `*.localhost`: it is not the app's to read.
    const cookie = req.headers.cookie === undefined ? null : withoutWharfCookies(req.headers.cookie);
    if (cookie === null) delete headers.cookie;
    else headers.cookie = cookie;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-proto'] = 'http';
    if (prefix) headers['x-forwarded-prefix'] = prefix;
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    upstream.inFlight++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        upstream.inFlight--;
      }
    };
    const send = (attempt: number) => {
      const out = http.request(
        { host: '127.0.0.1', port: upstream.port, method: req.method, path, headers, agent: upstream.agent },
        (up) => {
          const resHeaders: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) resHeaders[k] = v;
          res.writeHead(up.statusCode ?? 502, resHeaders);
          up.pipe(res);
          up.on('end', finish);
          up.on('error', () => {
            finish();
            res.destroy();
          });
        },
      );
      out.on('error', (err: NodeJS.ErrnoException) => {
        // A keep-alive socket the runtime closed just as it was reused: safe to retry an idempotent request once.
        if (idempotent && attempt === 0 && out.reusedSocket && err.code === 'ECONNRESET') {
          send(1);
          return;
        }
        finish();
        log.debug({ err, envId: route.envId }, 'upstream request failed');
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`upstream error: ${err.code ?? 'failed'}\n`);
      });
      if (idempotent) out.end();
      else req.pipe(out);
    };
    res.on('close', finish);
    send(0);
  };

  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = req.url ?? '/';
    const byHostRoute = host.endsWith('.localhost') ? byHost.get(host.slice(0, -'.localhost'.length)) : undefined;
    if (byHostRoute) return proxy(req, res, byHostRoute, url, '');
    // `/<label>/rest` or the owner's `/<app>/<env>/rest`. Names are DNS labels: nothing to decode.
    const m = /^\/([^/?]+)(?:\/([^/?]+))?(\/[^?]*)?(\?.*)?$/.exec(url);
    if (m) {
      const [, first = '', second, rest, query = ''] = m;
      const one = byPath.get(first);
      if (one) return proxy(req, res, one, `${second !== undefined ? `/${second}` : ''}${rest ?? ''}`.replace(/^$/, '/') + query, `/${first}`);
      const two = second !== undefined ? byPath.get(`${first}/${second}`) : undefined;
      if (two) return proxy(req, res, two, `${rest ?? '/'}${query}`, `/${first}/${second}`);
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(NOT_FOUND);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const unroute = (route: Route) => {
    for (const [k, r] of byHost) if (r === route) byHost.delete(k);
    for (const [k, r] of byPath) if (r === route) byPath.delete(k);
    byLabel.delete(route.label);
  };

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    urlFor: (label) => `http://${label}.localhost:${port}/`,
    set(spec) {
      const previous = byLabel.get(spec.label);
      if (previous) unroute(previous);
      const route: Route = { ...spec, holding: false };
      byLabel.set(route.label, route);
      byHost.set(route.label, route);
      byPath.set(route.label, route);
      if (route.friendly) {
        byHost.set(route.friendly.label, route);
        byPath.set(route.friendly.label, route);
        byPath.set(route.friendly.path, route);
      }
      if (route.upstream) wakeWaiters(route.label);
    },
    hold(label) {
      const route = byLabel.get(label);
      if (route) {
        route.upstream = null;
        route.holding = true;
      }
    },
    remove(label) {
      const route = byLabel.get(label);
      if (route) unroute(route);
      wakeWaiters(label);
    },
    async close() {
      for (const label of [...waiting.keys()]) wakeWaiters(label);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const r of byLabel.values()) r.upstream?.agent.destroy();
    },
  };
}
