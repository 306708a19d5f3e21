/**
 * Pipeline checks: step names unique within a pipeline, steps that route to other steps name real ones,
 * templates only read steps that ran earlier, and a pipeline is defined in one file only.
 */
import { CODES } from '../../codes.js';
import type { Diagnostic, Severity } from '../../diagnostic.js';
import { ENGINE_BEHAVIOUR } from '../../generated/engine-behaviour.js';
import { didYouMean } from '../../suggest.js';
import type { PathSegment } from '../../yaml/locate.js';
import { isRecord } from '../config-document.js';
import { type AppIndex, type PipelineEntry, report, where } from './app-index.js';

/** Where the engine's conditional step hands the next step's name to the pipeline. */
const CONDITIONAL_NEXT_STEP = `${ENGINE_BEHAVIOUR.steps['step.conditional']?.file ?? 'module/pipeline_step_conditional.go'} Execute`;

export function checkStepNames(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const pipeline of index.pipelines) {
    const seen = new Map<string, number>();
    for (const step of pipeline.steps) {
      if (step.name === undefined) continue;
      const first = seen.get(step.name);
      if (first !== undefined) {
        out.push(
          report(
            step.source,
            [...step.path, 'name'],
            CODES.DuplicateStep,
            `Step name "${step.name}" is already used by step ${first + 1} of pipeline "${pipeline.name}": the engine runs both, but templates and conditionals reach only one of them by that name. Give each step its own name.`,
          ),
        );
      } else seen.set(step.name, step.index);
    }
  }
  return out;
}

const stepNames = new WeakMap<PipelineEntry, Set<string>>();

/** Names of every step in a pipeline, nested ones (parallel, foreach, …) included; found once per pipeline. */
function allStepNames(pipeline: PipelineEntry): Set<string> {
  const known = stepNames.get(pipeline);
  if (known) return known;
  const names = new Set<string>();
  stepNames.set(pipeline, names);
  const stack: unknown[] = [pipeline.value.steps];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) stack.push(...value);
    else if (isRecord(value)) {
      if (typeof value.name === 'string' && typeof value.type === 'string') names.add(value.name);
      stack.push(...Object.values(value));
    }
  }
  return names;
}

/** step.conditional routes: `routes: {value: step}` and `default: step` must name steps of the pipeline. */
export function checkStepRoutes(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const pipeline of index.pipelines) {
    const names = allStepNames(pipeline);
    for (const step of pipeline.steps) {
      if (step.type !== 'step.conditional' || !isRecord(step.value.config)) continue;
      const config = step.value.config;
      const targets: [PathSegment[], unknown][] = [];
      if (isRecord(config.routes)) {
        for (const [value, target] of Object.entries(config.routes)) targets.push([[...step.path, 'config', 'routes', value], target]);
      }
      if ('default' in config) targets.push([[...step.path, 'config', 'default'], config.default]);
      for (const [path, target] of targets) {
        if (typeof target !== 'string' || names.has(target)) continue;
        out.push(
          report(
            step.source,
            path,
            CODES.MissingStepReference,
            `Fails at run time: step "${step.name}" routes to "${target}", which is not a step of pipeline "${pipeline.name}"; the engine loads the pipeline, and the run fails when the route is taken (${CONDITIONAL_NEXT_STEP}).${didYouMean(target, names)}`,
          ),
        );
      }
    }
  }
  return out;
}

/** `.steps.name`, `index .steps "name"` and `step "name"`, in one pass. */
const STEP_READS = /\.steps\.([A-Za-z0-9_]+)|index\s+\.steps\s+"([^"]+)"|\bstep\s+"([^"]+)"/g;

/** The bodies of the `{{ … }}` actions in a text, in one left-to-right pass. */
function templateActions(text: string): string[] {
  const bodies: string[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf('{{', from);
    if (open === -1) break;
    const close = text.indexOf('}}', open + 2);
    if (close === -1) break;
    bodies.push(text.slice(open + 2, close));
    from = close + 2;
  }
  return bodies;
}

/** Step names a template string reads. */
export function stepsReadBy(text: string): string[] {
  const found: string[] = [];
  for (const body of templateActions(text)) {
    for (const m of body.matchAll(STEP_READS)) {
      const name = m[1] ?? m[2] ?? m[3];
      if (name) found.push(name);
    }
  }
  return found;
}

/** A path built only for the strings that are kept: each level points at its parent. */
interface PathLink {
  parent: PathLink | undefined;
  segment: PathSegment;
}

const toPath = (link: PathLink | undefined, base: readonly PathSegment[]): PathSegment[] => {
  const segments: PathSegment[] = [];
  for (let l = link; l; l = l.parent) segments.push(l.segment);
  return [...base, ...segments.reverse()];
};

/** The `{{ template }}` strings under value, with their paths; at most 10,000 values are visited. */
function stringsIn(value: unknown, base: PathSegment[], out: [PathSegment[], string][]): void {
  const stack: [unknown, PathLink | undefined][] = [[value, undefined]];
  let budget = 10_000;
  while (stack.length > 0 && budget-- > 0) {
    const [v, link] = stack.pop() as [unknown, PathLink | undefined];
    if (typeof v === 'string') {
      if (v.includes('{{')) out.push([toPath(link, base), v]);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { parent: link, segment: i }]);
    } else if (isRecord(v)) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i] as [string, unknown];
        stack.push([child, { parent: link, segment: k }]);
      }
    }
  }
}

/** The engine's own switch: engine.validation.templateRefs is off, warn (its default) or error. */
function templateRefSeverity(index: AppIndex): Severity | 'off' {
  for (const source of index.documents) {
    const v = isRecord(source.value) && isRecord(source.value.engine) ? source.value.engine.validation : undefined;
    const mode = isRecord(v) ? v.templateRefs : undefined;
    if (mode === 'off') return 'off';
    if (mode === 'error') return 'error';
  }
  return 'warning';
}

export function checkTemplateStepOrder(index: AppIndex): Diagnostic[] {
  const severity = templateRefSeverity(index);
  if (severity === 'off') return [];
  const out: Diagnostic[] = [];
  for (const pipeline of index.pipelines) {
    const all = allStepNames(pipeline);
    const order = new Map<string, number>();
    for (const step of pipeline.steps) if (step.name !== undefined && !order.has(step.name)) order.set(step.name, step.index);
    for (const step of pipeline.steps) {
      const strings: [PathSegment[], string][] = [];
      stringsIn(step.value.config, [...step.path, 'config'], strings);
      for (const [path, text] of strings) {
        for (const read of new Set(stepsReadBy(text))) {
          const position = order.get(read);
          let problem: string | undefined;
          if (position === undefined && !all.has(read)) {
            problem = `reads step "${read}", which is not a step of pipeline "${pipeline.name}": its output will be empty.${didYouMean(read, all)}`;
          } else if (position !== undefined && position >= step.index) {
            problem =
              position === step.index
                ? `reads its own output (step "${read}"), which does not exist yet while it runs.`
                : `reads step "${read}", which runs later (step ${position + 1}): move "${read}" before step ${step.index + 1} or read something else.`;
          }
          if (problem) {
            out.push(report(step.source, path, CODES.TemplateStepOrder, `A template in step "${step.name}" ${problem}`, { severity }));
          }
        }
      }
    }
  }
  return out;
}

/** A pipeline name defined in two files: the engine keeps the first definition it loads. */
export function checkRedefinedPipelines(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, PipelineEntry>();
  for (const pipeline of index.pipelines) {
    const before = first.get(pipeline.name);
    if (!before) {
      first.set(pipeline.name, pipeline);
      continue;
    }
    out.push(
      report(
        pipeline.source,
        pipeline.path,
        CODES.RedefinedAcrossFiles,
        `Pipeline "${pipeline.name}" is also defined at ${where(before.source, before.path)}: only one definition is used. Rename or remove one.`,
        { atKey: true },
      ),
    );
  }
  return out;
}
