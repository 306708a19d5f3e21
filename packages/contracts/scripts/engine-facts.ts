/**
 * Reads what the Workflow engine enforces from its Go source: which module config keys it refuses to
 * load without (schema/validate.go), what each pipeline step factory refuses (module/pipeline_step_*.go,
 * found through the plugins' StepFactories registrations), and what its HTTP router does with a
 * route declared twice (module/http_router.go). Pure: text in, facts out, each fact with the file and
 * line it was read from. `read-engine.ts` feeds it a checkout or GitHub's raw files.
 */

import type { EngineFacts, SourceRef, StepFacts, ValueKind } from '../src/workflow/engine/engine-facts.js';

export type { EngineFacts, SourceRef, StepFacts, ValueKind };

/** A Go file of the engine, with the commit it was read at. */
export interface EngineFile {
  path: string;
  text: string;
  commit: string;
}

const lineOf = (text: string, index: number): number => {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
};

const ref = (file: EngineFile, index: number): SourceRef => `${file.path}:${lineOf(file.text, index)}`;

function firstMatch(file: EngineFile | undefined, pattern: RegExp): SourceRef | undefined {
  if (!file) return undefined;
  const m = pattern.exec(file.text);
  return m ? ref(file, m.index) : undefined;
}

/** `"step.db_query": wrapStepFactory(module.NewDBQueryStepFactory(` → step type and factory name. */
export function stepRegistrations(files: readonly EngineFile[]): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /"(step\.[a-z0-9_]+)"\s*:\s*\w*\(?\s*module\.(New\w+StepFactory)\(/g;
  for (const file of files) {
    for (const m of file.text.matchAll(pattern)) if (m[1] && m[2] && !found.has(m[1])) found.set(m[1], m[2]);
  }
  return found;
}

const KIND_BY_ASSERTION: Record<string, ValueKind> = {
  string: 'text',
  'map[string]any': 'map',
  'map[string]interface{}': 'map',
  '[]any': 'list',
  '[]interface{}': 'list',
  bool: 'boolean',
  int: 'number',
  float64: 'number',
};

/** The factory's body: from `func NewXStepFactory(` to the closing brace at the start of a line. */
export function factoryBody(file: EngineFile, factory: string): { start: number; body: string } | undefined {
  const start = file.text.indexOf(`func ${factory}(`);
  if (start < 0) return undefined;
  const end = file.text.indexOf('\n}', start);
  return { start, body: file.text.slice(start, end < 0 ? undefined : end + 2) };
}

export function readStepFactory(file: EngineFile, factory: string): StepFacts | undefined {
  const found = factoryBody(file, factory);
  if (!found) return undefined;
  const { start, body } = found;
  const at = (offset: number) => ref(file, start + offset);
  const facts: StepFacts = { factory, file: file.path, required: [], options: [], aliases: [], noTemplates: [], exclusive: [] };
  // variable → config key, and the kind it is read as: `x, _ := config["key"].(string)`
  const variables = new Map<string, { key: string; kind: ValueKind }>();
  for (const m of body.matchAll(/(\w+), _ :?= config\["([\w.-]+)"\](?:\.\(([^)]+)\))?/g)) {
    const [, variable, key, assertion] = m;
    if (!variable || !key) continue;
    if (!variables.has(variable)) variables.set(variable, { key, kind: KIND_BY_ASSERTION[assertion ?? ''] ?? 'any' });
    else if (variables.get(variable)?.key !== key) {
      facts.aliases.push({ key: variables.get(variable)?.key as string, alias: key, source: at(m.index) });
    }
  }
  const kindOf = (key: string): ValueKind => [...variables.values()].find((v) => v.key === key)?.kind ?? 'any';
  for (const m of body.matchAll(/'([\w.-]+)'(?: map| list)? is required/g)) {
    const key = m[1] as string;
    if (!facts.required.some((r) => r.key === key)) facts.required.push({ key, kind: kindOf(key), source: at(m.index) });
  }
  for (const m of body.matchAll(/'([\w.-]+)' and '([\w.-]+)' are mutually exclusive/g)) {
    facts.exclusive.push({ keys: [m[1] as string, m[2] as string], source: at(m.index) });
  }
  for (const m of body.matchAll(/strings\.Contains\((\w+), "\{\{"\)/g)) {
    const key = variables.get(m[1] as string)?.key;
    if (key) facts.noTemplates.push({ key, source: at(m.index) });
  }
  // switch x { case "a", "b": … default: return nil, fmt.Errorf(…) }
  for (const m of body.matchAll(/switch (\w+) \{\s*case ((?:"[^"]*",?\s*)+):[\s\S]*?default:\s*return nil, fmt\.Errorf/g)) {
    const key = variables.get(m[1] as string)?.key;
    const values = [...(m[2] as string).matchAll(/"([^"]*)"/g)].map((v) => v[1] as string);
    if (key) facts.options.push({ key, values, source: at(m.index + m[0].lastIndexOf('return nil')) });
  }
  // if x != "a" && x != "b" { return nil, fmt.Errorf(…) }
  for (const m of body.matchAll(/if ((\w+) != "[^"]*"(?: && \2 != "[^"]*")+) \{\s*return nil, fmt\.Errorf/g)) {
    const key = variables.get(m[2] as string)?.key;
    const values = [...(m[1] as string).matchAll(/"([^"]*)"/g)].map((v) => v[1] as string);
    if (key) facts.options.push({ key, values, source: at(m.index + m[0].lastIndexOf('return nil')) });
  }
  return facts;
}

export function readEngineFacts(files: readonly EngineFile[], options: { repository?: string; note?: string } = {}): EngineFacts {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const validate = byPath.get('schema/validate.go');
  const router = byPath.get('module/http_router.go');
  const facts: EngineFacts = {
    repository: options.repository ?? 'GoCodeAlone/workflow',
    ...(options.note ? { note: options.note } : {}),
    files: Object.fromEntries([...files].sort((a, b) => a.path.localeCompare(b.path)).map((f) => [f.path, { commit: f.commit }])),
    modules: {
      requiredKeys: firstMatch(validate, /required config field %q is missing"/),
      requiredNotEmpty: firstMatch(validate, /required config field %q must be a non-empty string/),
      duplicateName: firstMatch(validate, /duplicate module name %q/),
      missingDependency: firstMatch(validate, /depends on undefined module %q/),
    },
    routes: {
      duplicateSkipped: firstMatch(router, /Route already exists, skipping/),
      muxPattern: firstMatch(router, /mux\.HandleFunc\(fmt\.Sprintf\("%s %s", route\.Method, route\.Path\)/),
    },
    steps: {},
  };
  const goFiles = files.filter((f) => f.path.endsWith('.go'));
  for (const [type, factory] of [...stepRegistrations(goFiles)].sort(([a], [b]) => a.localeCompare(b))) {
    const conventional = byPath.get(`module/pipeline_step_${type.slice('step.'.length)}.go`);
    const file = conventional && factoryBody(conventional, factory) ? conventional : goFiles.find((f) => factoryBody(f, factory));
    const read = file && readStepFactory(file, factory);
    if (read) facts.steps[type] = read;
  }
  return facts;
}
