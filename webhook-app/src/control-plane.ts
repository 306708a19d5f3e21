/**
 * The control-plane server, started: its units built from settings, mounted on one Fastify server, listening, and
 * their workers started. The webhook-app's main.ts runs it alone; `wharf up` runs it beside the reconciler.
 */
import net from 'node:net';
import { StartupError } from '@wharf/contracts';
import type { DatabasePool } from '@wharf/store';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { buildServer } from './server.js';
import type { ControlPlaneSettings } from './settings.js';
import { buildUnits, CONTROL_PLANE_UNITS, type ControlPlaneServices, type UnitFactory } from './units.js';

export const WHARF_VERSION = '0.1.0';

export interface ControlPlaneServer {
  /** Where the server answers (a wildcard host shown as 127.0.0.1). */
  url: string;
  server: FastifyInstance;
  stop(): Promise<void>;
}

const portInUse = (host: string, port: number) =>
  new StartupError(`port ${port} on ${host} is already in use: stop the other process or set WHARF_PORT to a free port`);

/** Fails fast, before anything is started, when the server's port is taken. */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? portInUse(host, port) : err));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export async function startControlPlaneServer(options: {
  settings: ControlPlaneSettings;
  log: Logger;
  pool: DatabasePool;
  registry: Registry;
  /** Absolute: where units keep files. */
  dataDir: string;
  units?: Record<string, UnitFactory>;
  /** The database's URL (for LISTEN) when it is not DATABASE_URL. */
  databaseUrl?: string;
  services?: ControlPlaneServices;
}): Promise<ControlPlaneServer> {
  const { settings, log } = options;
  const units = await buildUnits(
    {
      pool: options.pool,
      log,
      registry: options.registry,
      settings,
      dataDir: options.dataDir,
      ...(options.databaseUrl ?? settings.DATABASE_URL ? { databaseUrl: options.databaseUrl ?? settings.DATABASE_URL } : {}),
      ...(options.services ? { services: options.services } : {}),
    },
    options.units ?? CONTROL_PLANE_UNITS,
  );
  const stops: (() => Promise<void>)[] = units.flatMap((u) => (u.stop ? [u.stop] : []));
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    const limits = {
      bodyLimitBytes: settings.WHARF_HTTP_BODY_LIMIT_BYTES,
      requestTimeoutMs: settings.WHARF_HTTP_REQUEST_TIMEOUT_MS,
      idleTimeoutMs: settings.WHARF_HTTP_IDLE_TIMEOUT_MS,
    };
    const server = await buildServer({ log, pool: options.pool, registry: options.registry, version: WHARF_VERSION, units, limits });
    stops.push(() => server.close());
    try {
      await server.listen({ host: settings.WHARF_HOST, port: settings.WHARF_PORT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(settings.WHARF_HOST, settings.WHARF_PORT);
      throw err;
    }
    for (const u of units) u.start?.();
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.WHARF_PORT;
    const host = settings.WHARF_HOST === '0.0.0.0' || settings.WHARF_HOST === '::' ? '127.0.0.1' : settings.WHARF_HOST;
    return { url: `http://${host}:${port}`, server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
