import { type FeatureFlagModule, isFeatureFlagModule } from '../modules/feature-flags.js';
import { formatValue } from '../template/index.js';
import { optionalString, requireString } from './config-values.js';
import type { StepDeps, StepFactory } from './step.js';
import type { PipelineContext } from '../pipeline/pipeline-context.js';

/** The one featureflag.service the engine's plugin hands its flag steps. */
function flagService(deps: StepDeps, where: string): FeatureFlagModule {
  const found = deps.modules.all().filter(isFeatureFlagModule);
  if (found.length === 0) throw new Error(`${where}: needs a featureflag.service module`);
  return found[0] as FeatureFlagModule;
}

/** `user_from` and `group_from` are templates (the flag key is not, as in the engine). */
function evaluator(spec: Parameters<StepFactory>[0], deps: StepDeps, where: string) {
  const service = flagService(deps, where);
  const flag = requireString(spec.config, ['flag'], where);
  const userFrom = optionalString(spec.config, 'user_from');
  const groupFrom = optionalString(spec.config, 'group_from');
  const user = userFrom ? deps.templates.compile(userFrom) : null;
  const group = groupFrom ? deps.templates.compile(groupFrom) : null;
  return {
    flag,
    /** Renders the templates now (inside the step's template budget), evaluates when awaited. */
    start(ctx: PipelineContext) {
      const userKey = user ? deps.templates.render(user, ctx.data()) : '';
      const groups = group ? deps.templates.render(group, ctx.data()) : '';
      return service.evaluate(flag, { userKey, groups });
    },
  };
}

/** The engine's FFGateStep/FeatureFlagStep reading of a flag value as on or off. */
function enabledOf(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value !== '' && value !== 'false' && value !== '0';
  return value !== null && value !== undefined;
}

/** step.feature_flag: evaluates `flag` and outputs `{<output_key>: {enabled, variant, value}}` (output_key defaults to the flag). */
export const featureFlag: StepFactory = (spec, deps) => {
  const where = `step ${spec.name} (step.feature_flag)`;
  const flag = evaluator(spec, deps, where);
  const outputKey = optionalString(spec.config, 'output_key') ?? flag.flag;
  return {
    name: spec.name,
    type: spec.type,
    async run(ctx) {
      const { value } = await flag.start(ctx);
      const variant = typeof value === 'boolean' ? String(value) : typeof value === 'string' ? value : formatValue(value ?? '<nil>');
      return { output: { [outputKey]: { enabled: enabledOf(value), variant, value } } };
    },
  };
};

/** step.ff_gate: evaluates `flag` and continues at `on_enabled` or `on_disabled` (both required, as in the engine). */
export const flagGate: StepFactory = (spec, deps) => {
  const where = `step ${spec.name} (step.ff_gate)`;
  const flag = evaluator(spec, deps, where);
  const onEnabled = requireString(spec.config, ['on_enabled'], where);
  const onDisabled = requireString(spec.config, ['on_disabled'], where);
  return {
    name: spec.name,
    type: spec.type,
    async run(ctx) {
      const { value } = await flag.start(ctx);
      const enabled = enabledOf(value);
      const next = enabled ? onEnabled : onDisabled;
      return { next, output: { flag: flag.flag, enabled, next_step: next } };
    },
  };
};
