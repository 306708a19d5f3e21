import path from 'node:path';
import { redactSecrets } from '@wharf/contracts';
import { createStorePool, type DatabasePool, EmbeddedPostgresInUseError, migrate, startEmbeddedPostgres } from '@wharf/store';
import net from 'node:net';
import { buildServer } from '@wharf/webhook-app';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { SettingsOf } from '@wharf/contracts';
import type { upSettings } from './settings.js';

export const WHARF_VERSION = '0.1.0';

import { StartupError } from './errors.js';

export { StartupError };

export interface ControlPlane {
  url: string;
  databaseUrl: string;
  pool: DatabasePool;
  registry: Registry;
  server: FastifyInstance;
  stop(): Promise<void>;
}

/** A unit mounted on the server before it listens (the GitHub App): its routes, and how to start and stop it. */
export interface ControlPlaneExtension {
  plugins?: FastifyPluginAsync[];
  start?: () => void;
  stop?: () => Promise<void>;
}

export interface ControlPlaneDeps {
  settings: SettingsOf<typeof upSettings>;
  log: Logger;
  cwd: string;
  progress: (message: string) => void;
  extend?: (ctx: { pool: DatabasePool; registry: Registry; databaseUrl: string }) => Promise<ControlPlaneExtension>;
}

const portInUse = (host: string, port: number) =>
  new StartupError(`port ${port} on ${host} is already in use: stop the other process or set WHARF_PORT to a free port`);

/** Fails fast, before any database is started, when the server's port is taken. */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? portInUse(host, port) : err));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Connects once before anything else, so an unreachable server is reported as such. */
async function checkReachable(url: string, fromSetting: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'wharf-check' });
  try {
    await client.connect();
  } catch (err) {
    const where = fromSetting ? ' (DATABASE_URL)' : '';
    throw new StartupError(`cannot connect to the database at ${redactSecrets(url)}${where}: ${redactSecrets((err as Error).message)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the store (embedded Postgres unless DATABASE_URL is set), migrates, and serves HTTP. */
export async function startControlPlane({ settings, log, cwd, progress, extend }: ControlPlaneDeps): Promise<ControlPlane> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    await checkPortFree(settings.WHARF_HOST, settings.WHARF_PORT);
    let databaseUrl = settings.DATABASE_URL;
    if (!databaseUrl) {
      const dataDir = path.resolve(cwd, settings.WHARF_DATA_DIR, 'pg');
      const started = Date.now();
      const pg = await startEmbeddedPostgres({ dataDir, log, onProgress: progress }).catch((err: Error) => {
        throw err instanceof EmbeddedPostgresInUseError ? new StartupError(err.message) : err;
      });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
      log.info({ dataDir: pg.dataDir, port: pg.port, initialised: pg.initialised, ms: Date.now() - started }, 'embedded postgres started');
    }
    await checkReachable(databaseUrl, Boolean(settings.DATABASE_URL));
    await migrate(databaseUrl, log).catch((err) => {
      throw new StartupError(`database migration failed: ${redactSecrets((err as Error).message)}`);
    });
    const pool = await createStorePool(databaseUrl, { maximumPoolSize: settings.WHARF_DB_POOL_SIZE });
    cleanups.push(() => pool.end());
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const extension = (await extend?.({ pool, registry, databaseUrl })) ?? {};
    if (extension.stop) cleanups.push(extension.stop);
    const server = await buildServer({ log, pool, registry, version: WHARF_VERSION, plugins: extension.plugins });
    cleanups.push(() => server.close());
    try {
      await server.listen({ host: settings.WHARF_HOST, port: settings.WHARF_PORT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(settings.WHARF_HOST, settings.WHARF_PORT);
      throw err;
    }
    extension.start?.();
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.WHARF_PORT;
    const host = settings.WHARF_HOST === '0.0.0.0' || settings.WHARF_HOST === '::' ? '127.0.0.1' : settings.WHARF_HOST;
    return { url: `http://${host}:${port}`, databaseUrl, pool, registry, server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
