import type { Json } from '../pipeline/pipeline-context.js';
import { readSqlStep } from './sql-step.js';
import type { StepFactory, StepResult } from './step.js';

export function shapeRows(rows: Json[], mode: 'list' | 'single'): Json {
  return mode === 'single' ? { row: rows[0] ?? {}, found: rows.length > 0 } : { rows, count: rows.length };
}

/** step.db_query: runs a parameterized SELECT; list mode gives rows/count, single mode row/found. */
export const dbQuery: StepFactory = (spec, deps) => {
  const { db, sql, params, mode } = readSqlStep(spec, deps, 'list');
  return {
    name: spec.name,
    type: spec.type,
    run(ctx): StepResult | Promise<StepResult> {
      const rows = db.query(sql(ctx), params(ctx));
      if (rows instanceof Promise) return rows.then((r) => ({ output: shapeRows(r, mode) }));
      return { output: shapeRows(rows, mode) };
    },
  };
};
