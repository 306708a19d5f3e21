/**
 * `wharf up`'s database and server: the embedded Postgres unless DATABASE_URL is set, migrated, and the
 * control-plane server (webhook-app) with its units. The reconciler and the local source run beside it
 * (up/local-stack.ts).
 */
import path from 'node:path';
import { type SettingsOf, StartupError } from '@wharf/contracts';
import { type DatabasePool, EmbeddedPostgresInUseError, openDatabase, startEmbeddedPostgres } from '@wharf/store';
import { checkPortFree, type ControlPlaneServer, type ControlPlaneServices, startControlPlaneServer } from '@wharf/webhook-app';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { upSettings } from './settings.js';

export interface ControlPlane {
  url: string;
  databaseUrl: string;
  pool: DatabasePool;
  registry: Registry;
  server: ControlPlaneServer['server'];
  stop(): Promise<void>;
}

export interface ControlPlaneDeps {
  settings: SettingsOf<typeof upSettings>;
  log: Logger;
  cwd: string;
  progress: (message: string) => void;
  /** Offered to the server's units (the local target's logs for the API). */
  services?: ControlPlaneServices;
}

/** Starts the store (embedded Postgres unless DATABASE_URL is set), migrates, and serves HTTP. */
export async function startControlPlane({ settings, log, cwd, progress, services }: ControlPlaneDeps): Promise<ControlPlane> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => log.warn({ err }, 'shutdown step failed'));
  };
  try {
    await checkPortFree(settings.WHARF_HOST, settings.WHARF_PORT);
    const dataDir = path.resolve(cwd, settings.WHARF_DATA_DIR);
    let databaseUrl = settings.DATABASE_URL;
    if (!databaseUrl) {
      const started = Date.now();
      const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), log, onProgress: progress }).catch((err: Error) => {
        throw err instanceof EmbeddedPostgresInUseError ? new StartupError(err.message) : err;
      });
      cleanups.push(() => pg.stop());
      databaseUrl = pg.url;
      log.info({ dataDir: pg.dataDir, port: pg.port, initialised: pg.initialised, ms: Date.now() - started }, 'embedded postgres started');
    }
    const pool = await openDatabase(databaseUrl, { log, poolSize: settings.WHARF_DB_POOL_SIZE, ...(settings.DATABASE_URL ? { what: 'DATABASE_URL' } : {}) });
    cleanups.push(() => pool.end());
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const server = await startControlPlaneServer({ settings, log, pool, registry, dataDir, databaseUrl, ...(services ? { services } : {}) });
    cleanups.push(() => server.stop());
    return { url: server.url, databaseUrl, pool, registry, server: server.server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
