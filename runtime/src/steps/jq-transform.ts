import type { Json } from '../pipeline/pipeline-context.js';
import { isRecord, optionalString, requireString } from './config-values.js';
import type { StepFactory } from './step.js';

/** step.jq: applies a jq expression to the context (or `input_from`); `result` holds the output, object keys are merged. */
export const jqTransform: StepFactory = (spec, deps) => {
  const expression = requireString(spec.config, ['expression', 'query', 'filter'], `step ${spec.name} (step.jq)`);
  const inputFrom = optionalString(spec.config, 'input_from');
  return {
    name: spec.name,
    type: spec.type,
    async run(ctx, scope) {
      const input = inputFrom ? ctx.resolvePath(inputFrom) : ctx.current;
      const results = await deps.jq.run(input, expression, { signal: scope.signal });
      const output: Json = { result: results.length === 0 ? null : results.length === 1 ? results[0] : results };
      if (results.length === 1 && isRecord(results[0])) Object.assign(output, results[0], { result: results[0] });
      return { output };
    },
  };
};
