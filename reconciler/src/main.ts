/**
 * The reconciler as a deployable: claims due environments from DATABASE_URL and reconciles them through the
 * targets it builds from its settings, with /healthz, /readyz and /metrics on WHARF_RECONCILER_PORT. Any number may
 * run against one database. Only wires: settings (every problem at once), logger, database, targets, loop, signals.
 *   DATABASE_URL=postgres://… node --import tsx reconciler/src/main.ts
 * `--operator` runs the in-cluster Kubernetes operator instead (operator/main.ts: WorkflowApp resources, no database).
 */
import path from 'node:path';
import { loadSettings, REDACT_PATHS, StartupError } from '@wharf/contracts';
import { openDatabase, ping, tenantPlans } from '@wharf/store';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startHealthServer } from './health-server.js';
import { createReconciler } from './reconciler.js';
import { reconcilerSettings, targetsFromSettings } from './settings.js';
import { createTargetRegistry } from './targets/registry.js';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<() => Promise<void>> {
  const unknown = argv.filter((a) => a !== '--operator');
  if (unknown.length > 0) throw new StartupError(`unknown arguments: ${unknown.join(' ')} (settings are environment variables)`);
  if (argv.includes('--operator')) {
    const { startOperatorDeployable } = await import('./operator/deployable.js');
    const operator = await startOperatorDeployable(env, (reason) => {
      process.stderr.write(`${reason}: exiting\n`);
      void operator.stop().finally(() => process.exit(1));
    });
    return () => operator.stop();
  }
  const settings = loadSettings(reconcilerSettings, env);
  const log = pino({ level: settings.WHARF_LOG_LEVEL, redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } });
  if (!settings.DATABASE_URL) throw new StartupError('DATABASE_URL is required (`wharf up` is the one that starts an embedded database)');
  const pool = await openDatabase(settings.DATABASE_URL, { log, poolSize: settings.WHARF_DB_POOL_SIZE, what: 'DATABASE_URL' });
  const stops: (() => Promise<void>)[] = [() => pool.end()];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => log.warn({ err }, 'shutdown step failed'));
    log.flush();
  };
  try {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const targets = await createTargetRegistry(
      targetsFromSettings(settings, path.resolve(settings.WHARF_DATA_DIR), { pool, tenantPlan: (id) => tenantPlans.planOfTenant(pool, id) }),
      { log },
    );
    stops.push(() => targets.close());
    const reconciler = createReconciler({ pool, databaseUrl: settings.DATABASE_URL, targets, log, registry });
    await reconciler.start();
    stops.push(() => reconciler.stop());
    const health = await startHealthServer({ host: settings.WHARF_RECONCILER_HOST, port: settings.WHARF_RECONCILER_PORT, registry, ready: () => ping(pool) });
    stops.push(() => health.close());
    log.info({ health: health.url, targets: [...targets.built.keys()] }, 'reconciler running');
    return stop;
  } catch (err) {
    await stop();
    throw err;
  }
}

try {
  const stop = await main(process.argv.slice(2), process.env);
  const signal = await new Promise<string>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => resolve(s));
  });
  process.stderr.write(`${signal}: stopping\n`);
  await stop();
  process.exit(0);
} catch (err) {
  const name = (err as Error).name;
  if (name !== 'SettingsError' && name !== 'StartupError') throw err;
  process.stderr.write(`reconciler: ${(err as Error).message}\n`);
  process.exit(1);
}
