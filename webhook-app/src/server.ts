import { redactSecrets } from '@wharf/contracts';
import { type DatabasePool, ping } from '@wharf/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Registry, Gauge } from 'prom-client';
import type { ControlPlaneUnit } from './units.js';

/** What one HTTP request may cost the server: every route gets these unless it sets its own body limit. */
export interface HttpLimits {
  /** Largest request body, in bytes (a route may allow more: the webhook route takes GitHub's 25 MB). */
  bodyLimitBytes: number;
  /** Headers and body of a request must have arrived within this many milliseconds (slow senders are cut off: 408). */
  requestTimeoutMs: number;
  /** A connection with no byte in either direction for this long is closed. */
  idleTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { bodyLimitBytes: 1_048_576, requestTimeoutMs: 30_000, idleTimeoutMs: 120_000 };

export interface ServerOptions {
  log: Logger;
  pool: DatabasePool;
  registry: Registry;
  version: string;
  /** The units (GitHub App, REST API, agent API, dashboard), each mounted as an encapsulated plugin. */
  units?: readonly ControlPlaneUnit[];
  limits?: Partial<HttpLimits>;
}

/** The control plane's HTTP server: health, readiness, metrics and every unit's routes. Tests drive it with `app.inject()`. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const app: FastifyInstance = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: limits.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: Math.min(72_000, limits.idleTimeoutMs),
    // Node checks request timeouts on an interval (30 s by default): often enough for the timeout to mean what it says.
    http: {
      headersTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.requestTimeoutMs / 4))),
    },
    return503OnClosing: true,
  });
  const buildInfo =
    (options.registry.getSingleMetric('wharf_build_info') as Gauge<'version' | 'node'> | undefined) ??
    new Gauge({ name: 'wharf_build_info', help: 'Wharf build information (always 1).', labelNames: ['version', 'node'], registers: [options.registry] });
  buildInfo.set({ version: options.version, node: process.version }, 1);

  const units = options.units ?? [];
  const log = options.log.child({ component: 'readiness' });
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Anyone may ask: the answer names each check and says ok or failing, never why (a database error can name hosts,
  // users and settings). The why goes to the log.
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, 'ok' | 'failing'> = {};
    let ready = true;
    const all: [string, () => Promise<void>][] = [
      ['database', () => ping(options.pool)],
      ...units.flatMap((u) => (u.ready ? [[u.name, u.ready] as [string, () => Promise<void>]] : [])),
    ];
    for (const [name, check] of all) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (err) {
        ready = false;
        checks[name] = 'failing';
        log.warn({ check: name, error: redactSecrets((err as Error).message ?? String(err)) }, 'readiness check failing');
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  for (const unit of units) if (unit.plugin) await app.register(unit.plugin, unit.prefix ? { prefix: unit.prefix } : {});
  return app;
}
