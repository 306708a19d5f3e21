import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { StepSpec } from '../config/app-config.js';
import type { OutboundPolicy } from '../confine/outbound-policy.js';
import type { RuntimeLimits } from '../limits.js';
import type { ModuleSet } from '../modules/module.js';
import type { Json, PipelineContext } from '../pipeline/pipeline-context.js';
import type { TemplateEngine } from '../template/index.js';
import type { HttpRequest } from '../http/http-types.js';
import type { JqRunner } from './jq-runner.js';

export type HttpAnswer = {
  status: number;
  headers: Record<string, string | number>;
  body?: unknown;
  /** Plain text or a stream instead of JSON (an answer a handler module gave step.delegate). */
  text?: string;
  stream?: Readable;
};

export type StepResult = {
  output?: Json;
  /** Jump to this step next (conditional routing). */
  next?: string;
  /** Answer the HTTP request with this and stop the pipeline. */
  answer?: HttpAnswer;
};

/** What a step may touch at run time beyond the pipeline context. */
export type RunScope = {
  readonly pipeline: string;
  readonly log: Logger;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Aborted when the pipeline's deadline passes; long steps (jq) stop their work on it. */
  readonly signal?: AbortSignal;
  /** For a run started by a message: how many messages led to it (step.publish passes it on, plus one). */
  readonly messageDepth?: number;
  /** The request an HTTP-triggered run answers (step.delegate hands it to a handler module). */
  readonly request?: HttpRequest;
  /** performance.now() past which the run stops; sub-steps check it between runs. */
  readonly deadline?: number;
  /** Sub-step runs (step.foreach items, step.parallel branches) left for this pipeline run, all nesting levels together. */
  readonly subStepBudget?: { left: number };
};

export type Step = {
  readonly name: string;
  readonly type: string;
  run(ctx: PipelineContext, scope: RunScope): StepResult | Promise<StepResult>;
};

export type StepDeps = {
  readonly pipeline: string;
  /** Names of every step in the same pipeline, for routing checks. */
  readonly stepNames: readonly string[];
  readonly templates: TemplateEngine;
  readonly modules: ModuleSet;
  readonly log: Logger;
  /** One jq engine per runtime, loaded on first use. */
  readonly jq: JqRunner;
  /** Where calls may go (step.http_call). */
  readonly outbound: OutboundPolicy;
  readonly limits: RuntimeLimits;
  /** Builds a sub-step (step.foreach, step.parallel) with the same dependencies; `stepNames` are its siblings. */
  readonly buildStep: (spec: StepSpec, stepNames: readonly string[]) => Step;
  /** How deep this step is nested inside foreach/parallel steps (0 for a pipeline's own steps). */
  readonly nesting: number;
};

/** Builds a step from its YAML; throws with a message naming the problem for bad config. */
export type StepFactory = (spec: StepSpec, deps: StepDeps) => Step;
