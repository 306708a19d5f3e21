import { PipelineContext } from '../pipeline/pipeline-context.js';
import type { Json } from '../pipeline/pipeline-context.js';
import type { StepFactory } from './step.js';
import { buildSubSteps, runSubSteps, subStepSpec } from './sub-steps.js';

/**
 * step.parallel, as the engine's ParallelStep: runs each named branch (a sub-step) side by side, each in its own
 * deep copy of the context. Output `{results: {branch: output}, errors: {branch: message}, completed, failed}`.
 * `error_strategy: fail_fast` (default) fails the step with the first branch's error; `collect_errors` fails it only
 * when every branch failed. Branch names must be unique, as the engine requires.
 */
export const parallelBranches: StepFactory = (spec, deps) => {
  const c = spec.config;
  const where = `step ${spec.name} (step.parallel)`;
  if (!Array.isArray(c.steps) || c.steps.length === 0) throw new Error(`${where}: 'steps' list is required`);
  const strategy = c.error_strategy === undefined || c.error_strategy === '' ? 'fail_fast' : c.error_strategy;
  if (strategy !== 'fail_fast' && strategy !== 'collect_errors')
    throw new Error(`${where}: error_strategy must be 'fail_fast' or 'collect_errors', got "${String(strategy)}"`);
  const seen = new Set<string>();
  const specs = c.steps.map((raw, i) => {
    const name = raw && typeof raw === 'object' && typeof (raw as Json).name === 'string' ? ((raw as Json).name as string) : '';
    if (!name) throw new Error(`${where}: steps[${i}] requires a 'name'`);
    if (seen.has(name)) throw new Error(`${where}: duplicate branch name "${name}"`);
    seen.add(name);
    return subStepSpec(raw, spec.name, name, where);
  });
  const branches = buildSubSteps(specs, deps);

  return {
    name: spec.name,
    type: spec.type,
    async run(ctx, scope) {
      const outcomes = await Promise.allSettled(branches.map((b) => runSubSteps([b], PipelineContext.child(ctx, {}, true), scope, deps)));
      const results: Json = {};
      const errors: Json = {};
      let first: { name: string; err: Error } | null = null;
      outcomes.forEach((o, i) => {
        const name = branches[i]?.name ?? String(i);
        if (o.status === 'fulfilled') results[name] = o.value;
        else {
          errors[name] = (o.reason as Error).message;
          first ??= { name, err: o.reason as Error };
        }
      });
      const failed = Object.keys(errors).length;
      if (strategy === 'fail_fast' && first) {
        const { name, err } = first as { name: string; err: Error };
        throw new Error(`branch "${name}" failed: ${err.message}`, { cause: err });
      }
      if (failed === branches.length) throw new Error(`all ${failed} branches failed`);
      return { output: { results, errors, completed: branches.length - failed, failed } };
    },
  };
};
