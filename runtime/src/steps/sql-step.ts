import { isSqlDatabase, type SqlDatabase } from '../modules/sql-database.js';
import type { PipelineContext } from '../pipeline/pipeline-context.js';
import type { CompiledTemplate, TemplateEngine } from '../template/index.js';
import { optionalString, requireString } from './config-values.js';
import type { StepDeps } from './step.js';
import type { StepSpec } from '../config/app-config.js';

export type SqlStepParts = {
  db: SqlDatabase;
  sql: (ctx: PipelineContext) => string;
  params: (ctx: PipelineContext) => unknown[];
  mode: 'list' | 'single';
};

const IDENTIFIER = /^[A-Za-z0-9_-]*$/;

/** Shared config reading for db_query and db_exec: database, query, params/args, mode, allow_dynamic_sql. */
export function readSqlStep(spec: StepSpec, deps: StepDeps, defaultMode: 'list' | 'single'): SqlStepParts {
  const where = `step ${spec.name} (${spec.type})`;
  const c = spec.config;
  const dbName = optionalString(c, 'database', 'module', 'db');
  const candidates = dbName ? [deps.modules.get(dbName)] : deps.modules.ofType('storage.sqlite', 'database.workflow');
  if (!dbName && candidates.length !== 1) throw new Error(`${where}: config.database is required`);
  const found = candidates[0];
  // As in the engine, the database service is looked up when the step runs: a missing one fails each run (500),
  // it does not stop the app from starting (Wharf's validation warns about it, WHARF134).
  let db: SqlDatabase;
  if (isSqlDatabase(found)) db = found;
  else {
    deps.log.warn({ pipeline: deps.pipeline, step: spec.name, database: dbName }, 'database module not found; the step fails when it runs');
    db = missingDatabase(String(dbName));
  }
  const query = requireString(c, ['query', 'sql'], where);
  const dynamic = c.allow_dynamic_sql === true;
  if (!dynamic && query.includes('{{')) throw new Error(`${where}: query must not contain template expressions (use params, or allow_dynamic_sql)`);
  const rawMode = optionalString(c, 'mode') ?? defaultMode;
  if (!['list', 'many', 'single', 'one'].includes(rawMode)) throw new Error(`${where}: mode must be list or single, got "${rawMode}"`);
  const mode = rawMode === 'single' || rawMode === 'one' ? 'single' : 'list';
  const rawParams = Array.isArray(c.params) ? c.params : Array.isArray(c.args) ? c.args : [];
  const params = rawParams.map((p) => (typeof p === 'string' ? deps.templates.compile(p) : p));
  const sql = dynamic ? dynamicSql(query, deps.templates) : () => query;
  return {
    db,
    mode,
    sql,
    params: (ctx) => {
      const data = ctx.data();
      return params.map((p) => (isCompiled(p) ? deps.templates.render(p, data) : p));
    },
  };
}

const isCompiled = (p: unknown): p is CompiledTemplate => !!p && typeof p === 'object' && 'nodes' in p && 'isStatic' in p;

/** Renders each `{{…}}` in a query on its own and accepts only identifier-like values (no SQL injection). */
function dynamicSql(query: string, templates: TemplateEngine): (ctx: PipelineContext) => string {
  const pieces = query.split(/(\{\{[\s\S]*?\}\})/).map((p) => (p.startsWith('{{') ? templates.compile(p) : p));
  return (ctx) =>
    pieces
      .map((p) => {
        if (typeof p === 'string') return p;
        const v = templates.render(p, ctx.data());
        if (!IDENTIFIER.test(v)) throw new Error(`dynamic SQL value "${v}" is not a plain identifier`);
        return v;
      })
      .join('');
}

/** Stands in for a database module the config does not declare: every statement fails as the engine's lookup does. */
function missingDatabase(name: string): SqlDatabase {
  const fail = (): never => {
    throw new Error(`database service "${name}" not found (declare a storage.sqlite or database.workflow module)`);
  };
  return { name, type: 'missing', driver: 'sqlite', query: fail, exec: fail };
}
