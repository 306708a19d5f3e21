import type { Logger } from 'pino';
import type { PipelineSpec } from '../config/app-config.js';
import type { ModuleSet } from '../modules/module.js';
import type { OutboundPolicy } from '../confine/outbound-policy.js';
import type { RuntimeLimits } from '../limits.js';
import type { JqRunner } from '../steps/jq-runner.js';
import { STEP_TYPES, isStepType } from '../steps/registry.js';
import type { HttpAnswer, RunScope, Step, StepDeps, StepResult } from '../steps/step.js';
import { isTruthy, type TemplateEngine } from '../template/index.js';
import { HttpAnswerError, StepFailedError } from './errors.js';
import { type Json, PipelineContext } from './pipeline-context.js';

export type StepTimer = (pipeline: string, step: string, type: string, seconds: number) => void;
export type RunOutcome = { answer: HttpAnswer | null; ctx: PipelineContext };

export type Pipeline = {
  readonly name: string;
  readonly spec: PipelineSpec;
  /** The deadline this pipeline runs under: its own `timeout`, never above the runtime's pipeline timeout. */
  readonly timeoutMs: number;
  run(trigger: Json, meta: Json, scope: RunScope): Promise<RunOutcome>;
};

export class PipelineTimeoutError extends Error {
  override readonly name = 'PipelineTimeoutError';
}

const MAX_STEP_RUNS = 10_000;
/** step.foreach / step.parallel inside each other at most this deep. */
const MAX_NESTING = 4;
/** Step types that stop their own work when the pipeline's deadline passes. */
const SIGNAL_STEPS: ReadonlySet<string> = new Set(['step.jq', 'step.http_call']);

export type PipelineDeps = {
  templates: TemplateEngine;
  modules: ModuleSet;
  log: Logger;
  onStep: StepTimer;
  jq: JqRunner;
  outbound: OutboundPolicy;
  limits: RuntimeLimits;
};

/**
 * Builds a pipeline's steps (collecting config problems) and returns its runner. A run stops at its deadline:
 * between steps, inside a step that waits (its promise loses the race and jq's worker is terminated through the
 * abort signal), and inside templates (the engine checks the deadline while it loops).
 */
export function buildPipeline(spec: PipelineSpec, deps: PipelineDeps, problems: string[]): Pipeline {
  const stepNames = spec.steps.map((s) => s.name);
  const steps: Step[] = [];
  const skipIf = new Map<string, ReturnType<TemplateEngine['compile']>>();
  // Sub-steps (step.foreach, step.parallel) are built with the same dependencies, one nesting level deeper.
  const stepDeps = (names: readonly string[], nesting: number): StepDeps => ({
    pipeline: spec.name,
    stepNames: names,
    templates: deps.templates,
    modules: deps.modules,
    log: deps.log,
    jq: deps.jq,
    outbound: deps.outbound,
    limits: deps.limits,
    nesting,
    buildStep: (sub, siblings) => {
      if (nesting + 1 > MAX_NESTING) throw new Error(`step ${sub.name}: sub-steps are nested more than ${MAX_NESTING} deep`);
      if (!isStepType(sub.type)) throw new Error(`step ${sub.name}: unsupported step type ${sub.type}; supported: ${Object.keys(STEP_TYPES).join(', ')}`);
      return STEP_TYPES[sub.type](sub, stepDeps(siblings, nesting + 1));
    },
  });
  for (const s of spec.steps) {
    if (!isStepType(s.type)) continue;
    try {
      steps.push(STEP_TYPES[s.type](s, stepDeps(stepNames, 0)));
      if (s.skipIf) skipIf.set(s.name, deps.templates.compile(s.skipIf.includes('{{') ? s.skipIf : `{{ ${s.skipIf} }}`));
    } catch (err) {
      problems.push(`pipeline ${spec.name}: ${(err as Error).message}`);
    }
  }
  const index = new Map(steps.map((s, i) => [s.name, i]));
  // Sub-steps count too: a step.http_call inside a step.foreach stops on the same signal.
  const needsSignal = [...SIGNAL_STEPS].some((type) => JSON.stringify(spec.steps).includes(`"${type}"`));
  const maxTimeoutMs = deps.limits.pipelineTimeoutMs;
  const timeoutMs = Math.min(spec.timeoutMs ?? maxTimeoutMs, maxTimeoutMs);
  const timeoutError = () => new PipelineTimeoutError(`pipeline ${spec.name} exceeded its timeout of ${timeoutMs} ms`);

  async function run(trigger: Json, meta: Json, outer: RunScope): Promise<RunOutcome> {
    const ctx = new PipelineContext(trigger, meta);
    const deadline = performance.now() + timeoutMs;
    let abort: AbortController | null = null;
    let timer: NodeJS.Timeout | undefined;
    let expired: Promise<never> | null = null;
    // The timer, the abort signal and the race exist only once a step waits: most steps finish synchronously.
    const waitFor = <T>(p: Promise<T>): Promise<T> => {
      if (!expired) {
        abort ??= new AbortController();
        const ac = abort;
        expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = timeoutError();
            ac.abort(err);
            reject(err);
          }, Math.max(0, deadline - performance.now()));
        });
        expired.catch(() => undefined);
      }
      return Promise.race([p, expired]);
    };
    // Steps that can stop their own work (jq's worker, an HTTP call) get the abort signal; the others never pay for it.
    if (needsSignal) abort = new AbortController();
    const scope: RunScope = { ...outer, deadline, subStepBudget: { left: deps.limits.subStepRuns }, ...(abort ? { signal: abort.signal } : {}) };
    try {
      let i = 0;
      let runs = 0;
      while (i < steps.length) {
        const step = steps[i];
        if (++runs > MAX_STEP_RUNS) throw new StepFailedError(spec.name, step.name, step.type, { cause: new Error('too many step runs (routing loop?)') });
        if (performance.now() > deadline) throw timeoutError();
        const skip = skipIf.get(step.name);
        const t0 = performance.now();
        let res: StepResult;
        try {
          deps.templates.beginStep(deadline);
          let r: StepResult | Promise<StepResult>;
          try {
            if (skip) {
              const v = deps.templates.render(skip, ctx.data());
              if (isTruthy(v) && v !== 'false') {
                i++;
                continue;
              }
            }
            r = step.run(ctx, scope);
          } finally {
            deps.templates.endStep();
          }
          res = r instanceof Promise ? await waitFor(r) : r;
        } catch (err) {
          deps.onStep(spec.name, step.name, step.type, (performance.now() - t0) / 1000);
          if (err instanceof HttpAnswerError || err instanceof PipelineTimeoutError) throw err;
          if (performance.now() > deadline) throw timeoutError();
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
      }
      if (performance.now() > deadline) throw timeoutError();
      return { answer: null, ctx };
    } finally {
      clearTimeout(timer);
    }
  }

  return { name: spec.name, spec, timeoutMs, run };
}
