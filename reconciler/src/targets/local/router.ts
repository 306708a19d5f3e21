/**
 * The local router: `http://<env>--<app>.localhost:<port>/` and `http://127.0.0.1:<port>/<app>/<env>/` proxy to
 * the environment's current runtime over keep-alive connections. A swap replaces an upstream atomically; requests
 * already sent to the old one finish there (in-flight counts let it drain before it stops).
 * `/.wharf/logs/<id>` (on a host that is not an environment's) streams an environment's log as JSON lines.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { LogLine, LogOptions } from '@wharf/contracts';

export interface Upstream {
  port: number;
  agent: http.Agent;
  inFlight: number;
}

export function createUpstream(port: number): Upstream {
  return { port, agent: new http.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1_000 }), inFlight: 0 };
}

interface Route {
  envId: number;
  app: string;
  env: string;
  upstream: Upstream | null;
  /** Shown when there is no upstream (crashed, restarting). */
  unavailable: string;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  hostFor(app: string, env: string): string;
  urlFor(app: string, env: string): string;
  /** Route the environment to `upstream` (null: answer 503 with `unavailable`). Returns the previous upstream. */
  set(route: Route): Upstream | null;
  remove(app: string, env: string): Upstream | null;
  close(): Promise<void>;
}

export interface RouterOptions {
  port: number;
  host?: string;
  log: Logger;
  /** An environment's log stream; undefined when the router knows no such environment. */
  logs?(envId: number, options: LogOptions): AsyncIterable<LogLine> | undefined;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export async function createRouter(options: RouterOptions): Promise<Router> {
  const byHost = new Map<string, Route>();
  const byPath = new Map<string, Route>();
  const hostKey = (app: string, env: string) => `${env}--${app}.localhost`.toLowerCase();
  const pathKey = (app: string, env: string) => `${app}/${env}`;
  const log = options.log.child({ component: 'router' });

  const serveLogs = (req: http.IncomingMessage, res: http.ServerResponse, id: number, follow: boolean) => {
    const closed = new AbortController();
    const lines = options.logs?.(id, { follow, signal: closed.signal });
    if (!lines) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no logs for environment ${id}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // Flush the headers now: a follower with nothing kept yet must not wait for the first line to see them.
    res.flushHeaders();
    req.on('close', () => closed.abort());
    void (async () => {
      for await (const l of lines) res.write(`${JSON.stringify(l)}\n`);
      res.end();
    })().catch((err) => {
      log.debug({ err, envId: id }, 'log stream ended');
      res.destroy();
    });
  };

  const proxy = (req: http.IncomingMessage, res: http.ServerResponse, route: Route, path: string, prefix: string) => {
    const upstream = route.upstream;
    if (!upstream) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end(`${route.unavailable}\n`);
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
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
        res.end(`upstream error: ${err.code ?? err.message}\n`);
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
    const byHostRoute = byHost.get(host);
    if (byHostRoute) return proxy(req, res, byHostRoute, url, '');
    const logsMatch = /^\/\.wharf\/logs\/(\d+)(\?.*)?$/.exec(url);
    if (logsMatch) return serveLogs(req, res, Number(logsMatch[1]), /[?&]follow=1/.test(logsMatch[2] ?? ''));
    const m = /^\/([^/?]+)\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(url);
    const route = m ? byPath.get(pathKey(decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? ''))) : undefined;
    if (m && route) return proxy(req, res, route, `${m[3] ?? '/'}${m[4] ?? ''}`, `/${m[1]}/${m[2]}`);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`no environment here; environments: ${[...byPath.keys()].sort().join(', ') || 'none'}\n`);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    hostFor: hostKey,
    urlFor: (app, env) => `http://${hostKey(app, env)}:${port}/`,
    set(route) {
      const previous = byPath.get(pathKey(route.app, route.env))?.upstream ?? null;
      byHost.set(hostKey(route.app, route.env), route);
      byPath.set(pathKey(route.app, route.env), route);
      return previous === route.upstream ? null : previous;
    },
    remove(app, env) {
      const previous = byPath.get(pathKey(app, env))?.upstream ?? null;
      byHost.delete(hostKey(app, env));
      byPath.delete(pathKey(app, env));
      return previous;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const r of byPath.values()) r.upstream?.agent.destroy();
    },
  };
}
