/**
 * References by name to modules. The engine wires modules and workflow handlers at start-up, so a
 * missing module there is an error. Steps and pipeline triggers look their services up when they run,
 * so there it is a warning: the app starts, the step fails.
 */
import { CODES } from '../../codes.js';
import type { Diagnostic, Severity } from '../../diagnostic.js';
import { MODULE_REFERENCE_KEYS } from '../../generated/module-catalogue.js';
import { memoDidYouMean } from '../../suggest.js';
import type { PathSegment } from '../../yaml/locate.js';
import { isDynamic } from '../check-config-schema.js';
import { isRecord } from '../config-document.js';
import { type AppIndex, report } from './app-index.js';

/** Keys of the `workflows:` sections that name modules ('*' walks a list). */
export const WORKFLOW_MODULE_REFERENCES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  http: [['router'], ['server'], ['routes', '*', 'handler'], ['routes', '*', 'middlewares', '*']],
  messaging: [['broker'], ['subscriptions', '*', 'handler']],
  statemachine: [['engine']],
  scheduler: [['jobs', '*', 'scheduler'], ['jobs', '*', 'job']],
  event: [['processor']],
  integration: [['registry']],
};

/** Every (path, value) reached by a pattern under root. */
export function walkPattern(root: unknown, pattern: readonly string[], base: PathSegment[] = []): [PathSegment[], unknown][] {
  if (pattern.length === 0) return [[base, root]];
  const [head, ...rest] = pattern as [string, ...string[]];
  if (head === '*') {
    return Array.isArray(root) ? root.flatMap((item, i) => walkPattern(item, rest, [...base, i])) : [];
  }
  return isRecord(root) && head in root ? walkPattern(root[head], rest, [...base, head]) : [];
}

export function checkModuleReferences(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hint = memoDidYouMean([...index.moduleByName.keys()]);
  const check = (source: AppIndex['documents'][number], path: PathSegment[], value: unknown, whose: string, severity: Severity) => {
    if (typeof value !== 'string' || value === '' || isDynamic(value) || index.moduleByName.has(value)) return;
    const consequence = severity === 'error' ? 'the engine will not start' : 'unless a plugin provides it, it fails when used';
    out.push(
      report(
        source,
        path,
        CODES.MissingModuleReference,
        `${whose} names module "${value}", which is not a module of this app: ${consequence}.${hint(value)}`,
        { severity },
      ),
    );
  };
  for (const module of index.modules) {
    const config = module.value.config;
    for (const [key, kind] of Object.entries(MODULE_REFERENCE_KEYS[module.type] ?? {})) {
      if (isRecord(config)) {
        check(module.source, [...module.path, 'config', key], config[key], `Module "${module.name}" (${key}:)`, kind === 'module' ? 'error' : 'warning');
      }
    }
  }
  for (const pipeline of index.pipelines) {
    for (const step of pipeline.steps) {
      const config = step.value.config;
      for (const key of Object.keys(MODULE_REFERENCE_KEYS[step.type] ?? {})) {
        if (isRecord(config)) {
          check(step.source, [...step.path, 'config', key], config[key], `Step "${step.name ?? step.index + 1}" of pipeline "${pipeline.name}" (${key}:)`, 'warning');
        }
      }
    }
    const trigger = pipeline.value.trigger;
    if (isRecord(trigger) && isRecord(trigger.config)) {
      for (const key of ['router', 'server']) {
        check(pipeline.source, [...pipeline.path, 'trigger', 'config', key], trigger.config[key], `The trigger of pipeline "${pipeline.name}" (${key}:)`, 'warning');
      }
    }
  }
  for (const source of index.documents) {
    if (!isRecord(source.value) || !isRecord(source.value.workflows)) continue;
    for (const [kind, patterns] of Object.entries(WORKFLOW_MODULE_REFERENCES)) {
      const section = source.value.workflows[kind];
      for (const pattern of patterns) {
        for (const [path, value] of walkPattern(section, pattern, ['workflows', kind])) {
          check(source, path, value, `workflows.${kind} (${String(pattern[pattern.length - 1] === '*' ? pattern[pattern.length - 2] : pattern[pattern.length - 1])}:)`, 'error');
        }
      }
    }
  }
  return out;
}
