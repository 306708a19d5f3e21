import { createApiHandler } from './api-handler.js';
import { createAuthMiddleware } from './auth-middleware.js';
import { createJwtAuth } from './auth-jwt.js';
import { createCronScheduler } from './cron-scheduler.js';
import { createFeatureFlags } from './feature-flags.js';
import { createHttpHandler } from './http-handler.js';
import { createMessageBroker } from './message-broker.js';
import { createMessagingHandler } from './messaging-handler.js';
import { type ModuleFactory, type ModuleSet, type RuntimeModule, whereInModule } from './module.js';
import { openPostgresDatabase } from './postgres-database.js';
import { parsePgDsn } from './postgres-dsn.js';
import { openSqliteDatabase, sqliteLocation } from './sqlite-database.js';
import { createHealthChecker, createLogCollector, createMetricsCollector } from './observability.js';
import { createReverseProxy } from './reverse-proxy.js';
import { createSlackNotification } from './slack-notification.js';
import { createStaticFileserver } from './static-fileserver.js';

const passive: ModuleFactory = (spec) => ({ name: spec.name, type: spec.type });

const broker: ModuleFactory = (spec, deps) =>
  createMessageBroker(spec.name, spec.type, Math.min(typeof spec.config.maxQueueSize === 'number' ? spec.config.maxQueueSize : deps.limits.brokerQueue, deps.limits.brokerQueue), deps.log);

/** Every module type the runtime serves; anything else makes it refuse to start. */
export const MODULE_TYPES = {
  'http.server': passive,
  'http.router': passive,
  'http.handler': (spec) => createHttpHandler(spec),
  'http.middleware.auth': (spec) => createAuthMiddleware(spec),
  'api.handler': createApiHandler,
  'storage.sqlite': (spec, deps) => {
    const path = typeof spec.config.dbPath === 'string' ? spec.config.dbPath : undefined;
    return openSqliteDatabase(spec.name, spec.type, sqliteLocation(path, deps.paths, spec.name, whereInModule(spec, 'dbPath')), deps);
  },
  'database.workflow': async (spec, deps) => {
    const driver = String(spec.config.driver ?? 'sqlite3');
    const dsn = typeof spec.config.dsn === 'string' ? spec.config.dsn : '';
    if (driver === 'postgres' || driver === 'pgx' || driver === 'postgresql') {
      const where = whereInModule(spec, 'dsn');
      if (!dsn) throw new Error(`${where}: a dsn is required for postgres`);
      let settings: ReturnType<typeof parsePgDsn>;
      try {
        settings = parsePgDsn(dsn);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
      deps.outbound.check(settings.host, settings.port, where);
      const max = typeof spec.config.maxOpenConns === 'number' ? spec.config.maxOpenConns : 10;
      return openPostgresDatabase(spec.name, spec.type, settings, max, deps);
    }
    if (driver === 'sqlite3' || driver === 'sqlite')
      return openSqliteDatabase(spec.name, spec.type, sqliteLocation(dsn, deps.paths, spec.name, whereInModule(spec, 'dsn')), deps);
    throw new Error(`${whereInModule(spec, 'driver')}: driver "${driver}" is not supported (sqlite3, sqlite, postgres)`);
  },
  'auth.jwt': createJwtAuth,
  'messaging.broker': broker,
  'messaging.broker.eventbus': broker,
  'messaging.handler': createMessagingHandler,
  'notification.slack': createSlackNotification,
  'scheduler.modular': (spec) => createCronScheduler(spec),
  'static.fileserver': createStaticFileserver,
  'health.checker': (spec) => createHealthChecker(spec),
  'metrics.collector': createMetricsCollector,
  'log.collector': (spec) => createLogCollector(spec),
  reverseproxy: createReverseProxy,
  'featureflag.service': createFeatureFlags,
  // The engine's platform plugin registers platform.context as a plain service module holding its config
  // (module.NewServiceModule, plugins/platform/plugin.go): nothing in a config's routes or steps reaches it here.
  'platform.context': passive,
  // The modular framework's in-memory cache: a service for Go code; nothing in a config reaches it.
  'cache.modular': passive,
} as const satisfies Record<string, ModuleFactory>;

export type ModuleType = keyof typeof MODULE_TYPES;

export function isModuleType(type: string): type is ModuleType {
  return Object.hasOwn(MODULE_TYPES, type);
}

export function createModuleSet(modules: readonly RuntimeModule[]): ModuleSet {
  const byName = new Map(modules.map((m) => [m.name, m]));
  return {
    get: (name) => byName.get(name),
    ofType: (...types) => modules.filter((m) => types.includes(m.type)),
    all: () => modules,
  };
}
