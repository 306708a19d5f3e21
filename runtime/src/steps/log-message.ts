import { optionalString } from './config-values.js';
import type { StepFactory } from './step.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** step.log: logs a rendered message with the pipeline and step. */
export const logMessage: StepFactory = (spec, deps) => {
  const raw = optionalString(spec.config, 'level') ?? 'info';
  const level: Level = raw === 'warning' ? 'warn' : (LEVELS.find((l) => l === raw) ?? 'info');
  const message = deps.templates.compile(optionalString(spec.config, 'message') ?? '');
  return {
    name: spec.name,
    type: spec.type,
    run(ctx, scope) {
      scope.log[level]({ pipeline: scope.pipeline, step: spec.name, message: deps.templates.render(message, ctx.data()) }, 'pipeline log');
      return {};
    },
  };
};
