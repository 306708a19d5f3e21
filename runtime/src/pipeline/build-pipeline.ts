import type { Logger } from 'pino';
import type { PipelineSpec } from '../config/app-config.js';
import type { ModuleSet } from '../modules/module.js';
import type { JqRunner } from '../steps/jq-runner.js';
import { STEP_TYPES, isStepType } from '../steps/registry.js';
import type { HttpAnswer, RunScope, Step, StepResult } from '../steps/step.js';
import { isTruthy, type TemplateEngine } from '../template/index.js';
import { HttpAnswerError, StepFailedError } from './errors.js';
import { type Json, PipelineContext } from './pipeline-context.js';

export type StepTimer = (pipeline: string, step: string, type: string, seconds: number) => void;
export type RunOutcome = { answer: HttpAnswer | null; ctx: PipelineContext };

export type Pipeline = {
  readonly name: string;
  readonly spec: PipelineSpec;
  run(trigger: Json, meta: Json, scope: RunScope): Promise<RunOutcome>;
};

export class PipelineTimeoutError extends Error {
  override readonly name = 'PipelineTimeoutError';
}

const MAX_STEP_RUNS = 10_000;

/** Builds a pipeline's steps (collecting config problems) and returns its runner. */
export function buildPipeline(
  spec: PipelineSpec,
  deps: { templates: TemplateEngine; modules: ModuleSet; log: Logger; onStep: StepTimer; jq: JqRunner },
  problems: string[],
): Pipeline {
  const stepNames = spec.steps.map((s) => s.name);
  const steps: Step[] = [];
  const skipIf = new Map<string, ReturnType<TemplateEngine['compile']>>();
  for (const s of spec.steps) {
    if (!isStepType(s.type)) continue;
    try {
      steps.push(STEP_TYPES[s.type](s, { pipeline: spec.name, stepNames, templates: deps.templates, modules: deps.modules, log: deps.log, jq: deps.jq }));
      if (s.skipIf) skipIf.set(s.name, deps.templates.compile(s.skipIf.includes('{{') ? s.skipIf : `{{ ${s.skipIf} }}`));
    } catch (err) {
      problems.push(`pipeline ${spec.name}: ${(err as Error).message}`);
    }
  }
  const index = new Map(steps.map((s, i) => [s.name, i]));

  async function run(trigger: Json, meta: Json, scope: RunScope): Promise<RunOutcome> {
    const ctx = new PipelineContext(trigger, meta);
    const started = performance.now();
    let i = 0;
    let runs = 0;
    while (i < steps.length) {
      const step = steps[i];
      if (++runs > MAX_STEP_RUNS) throw new StepFailedError(spec.name, step.name, step.type, { cause: new Error('too many step runs (routing loop?)') });
      const skip = skipIf.get(step.name);
      if (skip) {
        const v = deps.templates.render(skip, ctx.data());
        if (isTruthy(v) && v !== 'false') {
          i++;
          continue;
        }
      }
      const t0 = performance.now();
      let res: StepResult;
      try {
        const r = step.run(ctx, scope);
        res = r instanceof Promise ? await r : r;
      } catch (err) {
        deps.onStep(spec.name, step.name, step.type, (performance.now() - t0) / 1000);
        if (err instanceof HttpAnswerError) throw err;
        if (spec.onError === 'continue') {
          scope.log.warn({ err, pipeline: spec.name, step: step.name }, 'step failed, continuing');
          ctx.merge(step.name, { error: (err as Error).message });
          i++;
          continue;
        }
        throw new StepFailedError(spec.name, step.name, step.type, { cause: err });
      }
      deps.onStep(spec.name, step.name, step.type, (performance.now() - t0) / 1000);
      ctx.merge(step.name, res.output);
      if (res.answer) return { answer: res.answer, ctx };
      if (res.next !== undefined) {
        const target = index.get(res.next);
        if (target === undefined) throw new StepFailedError(spec.name, step.name, step.type, { cause: new Error(`unknown step ${res.next}`) });
        i = target;
      } else i++;
      if (spec.timeoutMs !== null && performance.now() - started > spec.timeoutMs)
        throw new PipelineTimeoutError(`pipeline ${spec.name} exceeded its timeout of ${spec.timeoutMs} ms`);
    }
    return { answer: null, ctx };
  }

  return { name: spec.name, spec, run };
}
