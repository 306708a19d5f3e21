import type { ExecResult } from '../modules/sql-database.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { shapeRows } from './db-query.js';
import { readSqlStep } from './sql-step.js';
import type { StepFactory, StepResult } from './step.js';

const shapeExec = (r: ExecResult): Json => ({ affected_rows: r.affectedRows, last_id: r.lastId });

/** step.db_exec: INSERT/UPDATE/DELETE giving affected_rows and last_id; `returning: true` gives rows instead. */
export const dbExec: StepFactory = (spec, deps) => {
  const parts = readSqlStep(spec, deps, 'list');
  const { db, sql, params, mode } = parts;
  const returning = spec.config.returning === true;
  const ignoreError = spec.config.ignore_error === true;
  const onError = (err: unknown): StepResult => {
    if (!ignoreError) throw err;
    return { output: returning ? { ...shapeRows([], mode), ignored_error: (err as Error).message } : { affected_rows: 0, last_id: '0', ignored_error: (err as Error).message } };
  };
  return {
    name: spec.name,
    type: spec.type,
    run(ctx): StepResult | Promise<StepResult> {
      try {
        if (returning) {
          const rows = db.query(sql(ctx), params(ctx));
          if (rows instanceof Promise) return rows.then((r) => ({ output: shapeRows(r, mode) }), onError);
          return { output: shapeRows(rows, mode) };
        }
        const r = db.exec(sql(ctx), params(ctx));
        if (r instanceof Promise) return r.then((x) => ({ output: shapeExec(x) }), onError);
        return { output: shapeExec(r) };
      } catch (err) {
        return onError(err);
      }
    },
  };
};
