import type { StepSpec } from '../config/app-config.js';
import type { Json, PipelineContext } from '../pipeline/pipeline-context.js';
import { isRecord } from './config-values.js';
import type { RunScope, Step, StepDeps, StepResult } from './step.js';

/**
 * A sub-step of step.foreach or step.parallel, built as the engine's buildSubStep does: the map's `type` and
 * `name` (default `<parent>-<field>`) name it, and every other key of the map is its config (sub-steps are
 * written flat: `{name, type, values: …}` for a step.set).
 */
export function subStepSpec(raw: unknown, parent: string, field: string, where: string): StepSpec {
  if (!isRecord(raw)) throw new Error(`${where}: ${field} must be a map`);
  const type = typeof raw.type === 'string' ? raw.type : '';
  if (!type) throw new Error(`${where}: failed to build ${field} sub-step for "${parent}": 'type' is required`);
  const name = typeof raw.name === 'string' && raw.name ? raw.name : `${parent}-${field}`;
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'type' && k !== 'name') config[k] = v;
  return { name, type, config };
}

export function buildSubSteps(specs: readonly StepSpec[], deps: StepDeps): Step[] {
  const names = specs.map((s) => s.name);
  return specs.map((s) => deps.buildStep(s, names));
}

/**
 * Runs sub-steps in order in their own context, as the engine's foreach does: each output is merged into that
 * context and collected into one map; a step that answers (step.json_response) ends the sequence. Every run
 * takes one unit of the pipeline run's sub-step budget and first checks its deadline.
 */
export async function runSubSteps(steps: readonly Step[], ctx: PipelineContext, scope: RunScope, deps: StepDeps): Promise<Json> {
  const collected: Json = {};
  for (const step of steps) {
    if (scope.subStepBudget && --scope.subStepBudget.left < 0)
      throw new Error(`more than ${deps.limits.subStepRuns} sub-step runs in one pipeline run`);
    if (scope.deadline !== undefined && performance.now() > scope.deadline) throw new Error(`pipeline ${deps.pipeline} passed its deadline`);
    deps.templates.beginStep(scope.deadline ?? null);
    let pending: StepResult | Promise<StepResult>;
    try {
      pending = step.run(ctx, scope);
    } catch (err) {
      throw new Error(`sub-step "${step.name}" failed: ${(err as Error).message}`, { cause: err });
    } finally {
      deps.templates.endStep();
    }
    let result: StepResult;
    try {
      result = pending instanceof Promise ? await pending : pending;
    } catch (err) {
      throw new Error(`sub-step "${step.name}" failed: ${(err as Error).message}`, { cause: err });
    }
    if (result.output) {
      ctx.merge(step.name, result.output);
      Object.assign(collected, result.output);
    }
    if (result.answer) break;
  }
  return collected;
}
