import type { Json } from '../pipeline/pipeline-context.js';
import { isRecord } from './config-values.js';
import type { StepFactory } from './step.js';

/** step.set: sets values (templates rendered) into the pipeline context. */
export const setValues: StepFactory = (spec, deps) => {
  const values = spec.config.values;
  if (!isRecord(values)) throw new Error(`step ${spec.name} (step.set): config.values must be a map`);
  return {
    name: spec.name,
    type: spec.type,
    run(ctx) {
      return { output: deps.templates.renderValue(values, ctx.data()) as Json };
    },
  };
};
