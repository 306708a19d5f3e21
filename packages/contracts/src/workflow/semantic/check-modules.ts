/** Module names are unique across the app; dependsOn names existing modules and has no cycle. */
import { posix } from 'node:path';
import { CODES } from '../../codes.js';
import { ENGINE_BEHAVIOUR } from '../../generated/engine-behaviour.js';
import type { Diagnostic } from '../../diagnostic.js';
import { memoDidYouMean } from '../../suggest.js';
import { isRecord } from '../config-document.js';
import { type AppIndex, type ModuleEntry, report, where } from './app-index.js';

/** Files of the app that another file pulls in with `imports:` (paths relative to the importing file). */
export function importedFiles(index: AppIndex): Set<string> {
  const imported = new Set<string>();
  for (const source of index.documents) {
    const imports = isRecord(source.value) && Array.isArray(source.value.imports) ? source.value.imports : [];
    const dir = posix.dirname(source.file);
    for (const entry of imports) if (typeof entry === 'string') imported.add(posix.normalize(posix.join(dir, entry)));
  }
  return imported;
}

export function checkDuplicateModules(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const imported = importedFiles(index);
  for (const module of index.modules) {
    const first = index.moduleByName.get(module.name);
    if (!first || first === module) continue;
    if (first.source.file !== module.source.file && (imported.has(module.source.file) || imported.has(first.source.file))) {
      // The engine merges imported files and keeps the importing file's module: allowed, but worth knowing.
      out.push(
        report(
          module.source,
          [...module.path, 'name'],
          CODES.RedefinedAcrossFiles,
          `Module "${module.name}" is also defined at ${where(first.source, [...first.path, 'name'])}: with imports the importing file's definition wins. Rename one if both are meant.`,
        ),
      );
      continue;
    }
    // The engine checks the names of modules only when their type is not a step (schema/validate.go): a step module
    // may reuse a name, and the config loads.
    const isStep = module.type.startsWith('step.');
    out.push(
      report(
        module.source,
        [...module.path, 'name'],
        CODES.DuplicateModule,
        isStep
          ? `Module name "${module.name}" is already used at ${where(first.source, [...first.path, 'name'])}. The engine does not check the names of step modules (${DUPLICATE_NAME_RULE}), so the config loads, but a reference to "${module.name}" can reach only one of them: rename one.`
          : `Module name "${module.name}" is already used at ${where(first.source, [...first.path, 'name'])}: give each module its own name (the engine refuses a second module of the same name, ${DUPLICATE_NAME_RULE}).`,
        isStep ? { severity: 'warning' } : {},
      ),
    );
  }
  return out;
}

const DUPLICATE_NAME_RULE = ENGINE_BEHAVIOUR.modules.duplicateName ?? 'schema/validate.go';

const dependsOnOf = (module: ModuleEntry): unknown[] =>
  Array.isArray(module.value.dependsOn) ? module.value.dependsOn : [];

export function checkDependencies(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hint = memoDidYouMean([...index.moduleByName.keys()]);
  for (const module of index.modules) {
    dependsOnOf(module).forEach((dep, i) => {
      if (typeof dep !== 'string' || index.moduleByName.has(dep)) return;
      out.push(
        report(
          module.source,
          [...module.path, 'dependsOn', i],
          CODES.MissingDependency,
          `Module "${module.name}" depends on "${dep}", which is not a module of this app.${hint(dep)}`,
        ),
      );
    });
  }
  out.push(...findCycles(index));
  return out;
}

/** Reports each dependency cycle once, at the dependsOn entry that closes it. */
function findCycles(index: AppIndex): Diagnostic[] {
  const out: Diagnostic[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (start: string) => {
    // iterative DFS: frames of [module name, next dependency index]
    const frames: [string, number][] = [[start, 0]];
    state.set(start, 'visiting');
    stack.push(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as [string, number];
      const module = index.moduleByName.get(frame[0]) as ModuleEntry;
      const deps = dependsOnOf(module);
      if (frame[1] >= deps.length) {
        state.set(frame[0], 'done');
        stack.pop();
        frames.pop();
        continue;
      }
      const depIndex = frame[1];
      frame[1]++;
      const dep = deps[depIndex];
      if (typeof dep !== 'string' || !index.moduleByName.has(dep)) continue;
      const depState = state.get(dep);
      if (depState === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        const key = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          out.push(
            report(
              module.source,
              [...module.path, 'dependsOn', depIndex],
              CODES.DependencyCycle,
              `Modules depend on each other in a cycle: ${cycle.join(' → ')}. Remove one of these dependsOn entries.`,
            ),
          );
        }
      } else if (depState === undefined) {
        state.set(dep, 'visiting');
        stack.push(dep);
        frames.push([dep, 0]);
      }
    }
  };
  for (const name of index.moduleByName.keys()) if (!state.has(name)) visit(name);
  return out;
}
