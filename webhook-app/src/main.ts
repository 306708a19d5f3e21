#!/usr/bin/env -S node --import tsx
/**
 * The control-plane server as a deployable: the GitHub App (and next the REST API, the agent API and the dashboard)
 * on one port, against DATABASE_URL. Only wires: settings (every problem at once), logger, database, server, signals.
 *   DATABASE_URL=postgres://… GITHUB_APP_ID=… node --import tsx webhook-app/src/main.ts
 */
import path from 'node:path';
import { loadSettings, REDACT_PATHS, StartupError } from '@wharf/contracts';
import { openDatabase } from '@wharf/store';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { checkPortFree, startControlPlaneServer } from './control-plane.js';
import { controlPlaneSettings } from './settings.js';

async function main(env: NodeJS.ProcessEnv): Promise<() => Promise<void>> {
  const settings = loadSettings(controlPlaneSettings, env);
  const log = pino({ level: settings.WHARF_LOG_LEVEL, redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } });
  if (!settings.DATABASE_URL) throw new StartupError('DATABASE_URL is required (`wharf up` is the one that starts an embedded database)');
  await checkPortFree(settings.WHARF_HOST, settings.WHARF_PORT);
  const pool = await openDatabase(settings.DATABASE_URL, { log, poolSize: settings.WHARF_DB_POOL_SIZE, what: 'DATABASE_URL' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = await startControlPlaneServer({ settings, log, pool, registry, dataDir: path.resolve(settings.WHARF_DATA_DIR), databaseUrl: settings.DATABASE_URL }).catch(async (err) => {
    await pool.end();
    throw err;
  });
  log.info({ url: server.url }, 'control plane listening');
  return async () => {
    await server.stop();
    await pool.end();
    log.flush();
  };
}

try {
  const stop = await main(process.env);
  const signal = await new Promise<string>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve(s));
  });
  process.stderr.write(`${signal}: stopping\n`);
  await stop();
  process.exit(0);
} catch (err) {
  const name = (err as Error).name;
  if (name !== 'SettingsError' && name !== 'StartupError') throw err;
  process.stderr.write(`webhook-app: ${(err as Error).message}\n`);
  process.exit(1);
}
