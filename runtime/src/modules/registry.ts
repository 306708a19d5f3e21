import { createJwtAuth } from './auth-jwt.js';
import { createMessageBroker } from './message-broker.js';
import type { ModuleFactory, ModuleSet, RuntimeModule } from './module.js';
import { openPostgresDatabase } from './postgres-database.js';
import { openSqliteDatabase, sqliteLocation } from './sqlite-database.js';
import { createStaticFileserver } from './static-fileserver.js';

const passive: ModuleFactory = (spec) => ({ name: spec.name, type: spec.type });

/** Every module type the runtime serves; anything else makes it refuse to start. */
export const MODULE_TYPES = {
  'http.server': passive,
  'http.router': passive,
  'storage.sqlite': (spec, deps) => {
    const path = typeof spec.config.dbPath === 'string' ? spec.config.dbPath : undefined;
    return openSqliteDatabase(spec.name, spec.type, sqliteLocation(path, deps.dataDir, spec.name), deps);
  },
  'database.workflow': async (spec, deps) => {
    const driver = String(spec.config.driver ?? 'sqlite3');
    const dsn = typeof spec.config.dsn === 'string' ? spec.config.dsn : '';
    if (driver === 'postgres' || driver === 'pgx' || driver === 'postgresql') {
      if (!dsn) throw new Error(`module ${spec.name} (database.workflow): config.dsn is required for postgres`);
      const max = typeof spec.config.maxOpenConns === 'number' ? spec.config.maxOpenConns : 10;
      return openPostgresDatabase(spec.name, spec.type, dsn, max, deps);
    }
    if (driver === 'sqlite3' || driver === 'sqlite') return openSqliteDatabase(spec.name, spec.type, sqliteLocation(dsn, deps.dataDir, spec.name), deps);
    throw new Error(`module ${spec.name} (database.workflow): driver "${driver}" is not supported (sqlite3, sqlite, postgres)`);
  },
  'auth.jwt': createJwtAuth,
  'messaging.broker': (spec, deps) =>
    createMessageBroker(spec.name, spec.type, typeof spec.config.maxQueueSize === 'number' ? spec.config.maxQueueSize : 10_000, deps.log),
  'static.fileserver': (spec) => createStaticFileserver(spec),
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
