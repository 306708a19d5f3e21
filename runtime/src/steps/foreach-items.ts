import { PipelineContext } from '../pipeline/pipeline-context.js';
import type { Json } from '../pipeline/pipeline-context.js';
import { isRecord, optionalString } from './config-values.js';
import type { StepFactory } from './step.js';
import { buildSubSteps, runSubSteps, subStepSpec } from './sub-steps.js';

/** Items a concurrent foreach keeps in flight at most, whatever `concurrency` asks for. */
const MAX_CONCURRENCY = 16;

/** The collection as the engine finds it: a key of the current values, of the trigger, then a dotted path. */
function resolveCollection(ctx: PipelineContext, path: string): unknown[] {
  let value: unknown;
  if (Object.hasOwn(ctx.current, path)) value = ctx.current[path];
  else if (Object.hasOwn(ctx.trigger, path)) value = ctx.trigger[path];
  else {
    const data: Json = { ...ctx.current, steps: ctx.steps, trigger: ctx.trigger };
    let cur: unknown = Object.hasOwn(data, path) ? data[path] : data;
    if (!Object.hasOwn(data, path))
      for (const part of path.split('.')) {
        if (!isRecord(cur) || !Object.hasOwn(cur, part)) throw new Error(`collection "${path}" not found in context`);
        cur = cur[part];
      }
    value = cur;
  }
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`expected a slice, got ${typeof value === 'object' ? 'a map' : typeof value}`);
  return value;
}

/**
 * step.foreach, as the engine's ForEachStep: runs its sub-steps (`step`, or a `steps` list) once per item of
 * `collection`, each in a copy of the context with the item under `item_var` (or `item_key`; default `item`), the
 * index under `index_key` (default `index`) and `foreach: {index, <item_var>}`. Output `{results, count}`; with
 * `concurrency` > 0 items run side by side (at most 16 at once here) and `error_strategy: collect_errors` keeps
 * going, recording `{_error, _index}` for a failed item and `error_count`. Items per run are bounded.
 */
export const foreachItems: StepFactory = (spec, deps) => {
  const c = spec.config;
  const where = `step ${spec.name} (step.foreach)`;
  const collection = optionalString(c, 'collection');
  if (!collection) throw new Error(`${where}: 'collection' is required`);
  const itemKey = optionalString(c, 'item_var', 'item_key') ?? 'item';
  const indexKey = optionalString(c, 'index_key') ?? 'index';
  const concurrency = typeof c.concurrency === 'number' && c.concurrency > 0 ? Math.trunc(c.concurrency) : 0;
  const collectErrors = c.error_strategy === 'collect_errors';
  if ('step' in c && 'steps' in c) throw new Error(`${where}: 'step' and 'steps' are mutually exclusive`);
  let raw: unknown[] = [];
  if ('step' in c) raw = [c.step];
  else if ('steps' in c) {
    if (!Array.isArray(c.steps)) throw new Error(`${where}: 'steps' must be a list`);
    raw = c.steps;
  }
  const subSpecs = raw.map((r, i) => subStepSpec(r, spec.name, 'step' in c ? 'step' : `sub-${i}`, where));
  const steps = buildSubSteps(subSpecs, deps);

  return {
    name: spec.name,
    type: spec.type,
    async run(ctx, scope) {
      const items = resolveCollection(ctx, collection);
      if (items.length > deps.limits.foreachItems) throw new Error(`the collection has ${items.length} items, more than ${deps.limits.foreachItems}`);
      const childOf = (item: unknown, index: number) => {
        const extra: Json = { [itemKey]: item, [indexKey]: index };
        if (itemKey !== 'foreach' && indexKey !== 'foreach' && !Object.hasOwn(ctx.current, 'foreach')) extra.foreach = { index, [itemKey]: item };
        return PipelineContext.child(ctx, extra);
      };
      if (concurrency === 0) {
        const results: Json[] = [];
        for (const [i, item] of items.entries()) {
          try {
            results.push(await runSubSteps(steps, childOf(item, i), scope, deps));
          } catch (err) {
            throw new Error(`iteration ${i}, ${(err as Error).message}`, { cause: err });
          }
        }
        return { output: { results, count: results.length } };
      }
      const results: Json[] = new Array(items.length);
      let errorCount = 0;
      let next = 0;
      let failed: Error | null = null;
      const worker = async () => {
        while (next < items.length && !failed) {
          const i = next++;
          try {
            results[i] = await runSubSteps(steps, childOf(items[i], i), scope, deps);
          } catch (err) {
            const message = `iteration ${i}, ${(err as Error).message}`;
            if (!collectErrors) failed ??= new Error(message, { cause: err });
            errorCount++;
            results[i] = { _error: message, _index: i };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, MAX_CONCURRENCY, items.length) }, worker));
      if (failed) throw failed;
      return { output: { results, count: items.length, ...(errorCount > 0 ? { error_count: errorCount } : {}) } };
    },
  };
};
