/**
 * An index of the modules, pipelines and steps of all documents of one app, with where each was
 * written, shared by the semantic checks.
 */
import type { Code } from '../../codes.js';
import type { Diagnostic, Severity } from '../../diagnostic.js';
import { diagnosticAt } from '../../yaml/diagnostic-at.js';
import type { PathSegment } from '../../yaml/locate.js';
import { type ConfigDocument, isRecord } from '../config-document.js';

export interface Located<T> {
  source: ConfigDocument;
  path: PathSegment[];
  value: T;
}

export interface ModuleEntry extends Located<Record<string, unknown>> {
  name: string;
  type: string;
}

export interface StepEntry extends Located<Record<string, unknown>> {
  name: string | undefined;
  type: string;
  index: number;
}

export interface PipelineEntry extends Located<Record<string, unknown>> {
  name: string;
  steps: StepEntry[];
}

export interface AppIndex {
  documents: ConfigDocument[];
  modules: ModuleEntry[];
  /** First definition of each module name. */
  moduleByName: Map<string, ModuleEntry>;
  pipelines: PipelineEntry[];
}

export function buildAppIndex(documents: readonly ConfigDocument[]): AppIndex {
  const index: AppIndex = { documents: [...documents], modules: [], moduleByName: new Map(), pipelines: [] };
  for (const source of documents) {
    if (!isRecord(source.value)) continue;
    const modules = Array.isArray(source.value.modules) ? source.value.modules : [];
    modules.forEach((value, i) => {
      if (!isRecord(value) || typeof value.name !== 'string') return;
      const entry: ModuleEntry = {
        source,
        path: ['modules', i],
        value,
        name: value.name,
        type: typeof value.type === 'string' ? value.type : '',
      };
      index.modules.push(entry);
      if (!index.moduleByName.has(entry.name)) index.moduleByName.set(entry.name, entry);
    });
    const pipelines = isRecord(source.value.pipelines) ? source.value.pipelines : {};
    for (const [name, value] of Object.entries(pipelines)) {
      if (!isRecord(value)) continue;
      const steps = Array.isArray(value.steps) ? value.steps : [];
      index.pipelines.push({
        source,
        path: ['pipelines', name],
        value,
        name,
        steps: steps.flatMap((step, i) =>
          isRecord(step)
            ? [
                {
                  source,
                  path: ['pipelines', name, 'steps', i],
                  value: step,
                  name: typeof step.name === 'string' ? step.name : undefined,
                  type: typeof step.type === 'string' ? step.type : '',
                  index: i,
                },
              ]
            : [],
        ),
      });
    }
  }
  return index;
}

/** A diagnostic about the value at path (e.g. a name), or about the entry (its key) with atKey. */
export function report(
  source: ConfigDocument,
  path: readonly PathSegment[],
  code: Code,
  message: string,
  options: { severity?: Severity; atKey?: boolean } = {},
): Diagnostic {
  const range = options.atKey ? source.positions.entryRange(path) : source.positions.valueRange(path);
  return diagnosticAt(source.file, source.positions, range, code, message, options.severity);
}

/** "workflow.yaml:12" for messages that point at another definition. */
export function where(source: ConfigDocument, path: readonly PathSegment[]): string {
  const range = source.positions.valueRange(path);
  const line = range ? source.positions.linePos(range[0]).line : 1;
  return `${source.file}:${line}`;
}
