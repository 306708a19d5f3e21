import { type DatabasePool, ping } from '@wharf/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Registry, Gauge } from 'prom-client';
import type { ControlPlaneUnit } from './units.js';

export interface ServerOptions {
  log: Logger;
  pool: DatabasePool;
  registry: Registry;
  version: string;
  /** The units (GitHub App, REST API, agent API, dashboard), each mounted as an encapsulated plugin. */
  units?: readonly ControlPlaneUnit[];
}

/** The control plane's HTTP server: health, readiness, metrics and every unit's routes. Tests drive it with `app.inject()`. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 26_214_400,
    return503OnClosing: true,
  });
  const buildInfo =
    (options.registry.getSingleMetric('wharf_build_info') as Gauge<'version' | 'node'> | undefined) ??
    new Gauge({ name: 'wharf_build_info', help: 'Wharf build information (always 1).', labelNames: ['version', 'node'], registers: [options.registry] });
  buildInfo.set({ version: options.version, node: process.version }, 1);

  const units = options.units ?? [];
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
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
        checks[name] = (err as Error).message;
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
