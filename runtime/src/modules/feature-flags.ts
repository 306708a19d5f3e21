import { createHash } from 'node:crypto';
import type { ModuleSpec } from '../config/app-config.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { type ModuleDeps, type RuntimeModule, whereInModule } from './module.js';
import type { SqlDatabase } from './sql-database.js';
import { openSqliteDatabase, sqliteLocation } from './sqlite-database.js';

export type FlagContext = { userKey: string; groups: string };
export type FlagValue = { key: string; value: unknown; reason: string };

/** featureflag.service as steps use it: evaluates one flag for a user (and groups). */
export type FeatureFlagModule = RuntimeModule & { evaluate(key: string, ctx: FlagContext): Promise<FlagValue> };

export const isFeatureFlagModule = (m: RuntimeModule | undefined): m is FeatureFlagModule =>
  !!m && typeof (m as Partial<FeatureFlagModule>).evaluate === 'function';

/** The engine's generic store schema (featureflag/generic/store.go), so the same file works with either. */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS feature_flags (key TEXT PRIMARY KEY, type TEXT NOT NULL DEFAULT 'boolean', description TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1, default_val TEXT NOT NULL DEFAULT 'false', tags TEXT NOT NULL DEFAULT '[]', percentage REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (datetime('now')), updated_at TEXT NOT NULL DEFAULT (datetime('now')))`,
  `CREATE TABLE IF NOT EXISTS flag_rules (id INTEGER PRIMARY KEY AUTOINCREMENT, flag_key TEXT NOT NULL REFERENCES feature_flags(key) ON DELETE CASCADE,
    priority INTEGER NOT NULL DEFAULT 0, attribute TEXT NOT NULL, operator TEXT NOT NULL, value TEXT NOT NULL, serve_value TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now')))`,
  `CREATE TABLE IF NOT EXISTS flag_overrides (id INTEGER PRIMARY KEY AUTOINCREMENT, flag_key TEXT NOT NULL REFERENCES feature_flags(key) ON DELETE CASCADE,
    scope TEXT NOT NULL DEFAULT 'user', scope_key TEXT NOT NULL, value TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (datetime('now')),
    UNIQUE(flag_key, scope, scope_key))`,
];

/** The engine's parseTypedValue: the stored text as the flag's type. */
function typed(raw: string, type: string): unknown {
  switch (type) {
    case 'boolean':
      return raw === 'true' || raw === '1';
    case 'integer':
      return Number.parseInt(raw, 10) || 0;
    case 'float':
      return Number.parseFloat(raw) || 0;
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

/** The engine's evaluateCondition for targeting rules. */
function matches(attr: string, operator: string, value: string): boolean {
  switch (operator) {
    case 'eq':
      return attr === value;
    case 'neq':
      return attr !== value;
    case 'in':
      return value.split(',').some((v) => v.trim() === attr);
    case 'contains':
      return attr.includes(value);
    case 'startsWith':
      return attr.startsWith(value);
    case 'gt':
    case 'lt': {
      const a = Number(attr);
      const v = Number(value);
      if (attr.trim() === '' || value.trim() === '' || Number.isNaN(a) || Number.isNaN(v)) return false;
      return operator === 'gt' ? a > v : a < v;
    }
    default:
      return false;
  }
}

/** The engine's hashBucket: the same user always lands in the same bucket (0–99) for a flag. */
const bucket = (userKey: string, flagKey: string): number => createHash('sha256').update(userKey + flagKey).digest().readUInt32BE(0) % 100;

/**
 * featureflag.service with the engine's generic provider (featureflag/generic): flags, targeting rules and
 * overrides in a SQLite file with the engine's schema, `db_path` (default `data/featureflags.db`) inside the data
 * dir (in memory without one). A `storage.sqlite` module naming the same file shares it, so pipelines can manage
 * flags with SQL. Evaluation follows the engine: disabled → default; user override; group override; rules by
 * priority; percentage rollout; default. An unknown flag is an error, as in the engine. Flags are read on every
 * evaluation (the engine caches them for `cache_ttl`).
 */
export async function createFeatureFlags(spec: ModuleSpec, deps: ModuleDeps): Promise<FeatureFlagModule> {
  const provider = typeof spec.config.provider === 'string' ? spec.config.provider : '';
  if (provider !== '' && provider !== 'generic') throw new Error(`${whereInModule(spec, 'provider')}: unsupported provider "${provider}" (supported: generic)`);
  const dbPath = typeof spec.config.db_path === 'string' && spec.config.db_path ? spec.config.db_path : 'data/featureflags.db';
  const db: SqlDatabase = await openSqliteDatabase(spec.name, spec.type, sqliteLocation(dbPath, deps.paths, spec.name, whereInModule(spec, 'db_path')), deps);
  let migrated: Promise<void> | null = null;
  const ready = () =>
    (migrated ??= (async () => {
      for (const statement of SCHEMA) await db.exec(statement, []);
    })());

  async function evaluate(key: string, ctx: FlagContext): Promise<FlagValue> {
    await ready();
    const [flag] = await db.query('SELECT key, type, enabled, default_val, percentage FROM feature_flags WHERE key = ?', [key]);
    if (!flag) throw new Error(`flag "${key}" not found`);
    const type = String(flag.type);
    const value = (raw: unknown, reason: string): FlagValue => ({ key, value: typed(String(raw), type), reason });
    if (!Number(flag.enabled)) return value(flag.default_val, 'disabled');
    const overrides = await db.query('SELECT scope, scope_key, value FROM flag_overrides WHERE flag_key = ? ORDER BY scope, scope_key', [key]);
    const user = overrides.find((o) => o.scope === 'user' && o.scope_key === ctx.userKey);
    if (user) return value(user.value, 'user_override');
    const groups = ctx.groups.split(',').map((g) => g.trim()).filter(Boolean);
    const group = overrides.find((o) => o.scope === 'group' && groups.includes(String(o.scope_key)));
    if (group) return value(group.value, 'group_override');
    const attributes: Json = { groups: ctx.groups };
    for (const rule of await db.query('SELECT attribute, operator, value, serve_value FROM flag_rules WHERE flag_key = ? ORDER BY priority ASC', [key])) {
      if (matches(String(attributes[String(rule.attribute)] ?? ''), String(rule.operator), String(rule.value))) return value(rule.serve_value, 'targeting_rule');
    }
    const percentage = Number(flag.percentage);
    if (percentage > 0) return value(flag.default_val, bucket(ctx.userKey, key) < percentage ? 'percentage_rollout_in' : 'percentage_rollout_out');
    return value(flag.default_val, 'default');
  }

  return { name: spec.name, type: spec.type, evaluate, close: () => db.close?.() };
}
