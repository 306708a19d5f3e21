import { sql, type DatabasePool } from '@wharf/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { type Registry, Gauge } from 'prom-client';

export interface ServerOptions {
  log: Logger;
  pool: DatabasePool;
  registry: Registry;
  version: string;
  /** Routes added by other units (GitHub App, agent API, REST API), each an encapsulated plugin. */
  plugins?: FastifyPluginAsync[];
  /** Extra readiness checks; each throws when not ready. */
  readinessChecks?: Record<string, () => Promise<void>>;
}

/** The control plane's HTTP server. Tests drive it with `app.inject()`. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 26_214_400,
    return503OnClosing: true,
  });
  new Gauge({
    name: 'wharf_build_info',
    help: 'Wharf build information (always 1).',
    labelNames: ['version', 'node'],
    registers: [options.registry],
  }).set({ version: options.version, node: process.version }, 1);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    const all = { database: async () => void (await options.pool.oneFirst(sql.unsafe`SELECT 1`)), ...options.readinessChecks };
    for (const [name, check] of Object.entries(all)) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (err) {
        ready = false;
        checks[name] = (err as Error).message;
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  return app;
}
