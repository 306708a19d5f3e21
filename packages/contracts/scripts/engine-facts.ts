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

/**
 * Step type → factory name, from the plugins' registration maps: `"step.db_query":
 * wrapStepFactory(module.NewDBQueryStepFactory(` or `"step.rate_limit": func(…) { factory :=
 * module.NewRateLimitStepFactory()` (the first factory named before the next registration).
 */
export function stepRegistrations(files: readonly EngineFile[]): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /"(step\.[a-z0-9_]+)"\s*:((?:(?!"step\.)[\s\S]){0,300}?)module\.(New\w+StepFactory)\(/g;
  for (const file of files) {
    for (const m of file.text.matchAll(pattern)) if (m[1] && m[3] && !found.has(m[1])) found.set(m[1], m[3]);
  }
  return found;
}

/** The one step factory a file defines (`func NewXStepFactory(`), if it defines exactly one. */
export function onlyFactoryIn(file: EngineFile): string | undefined {
  const names = [...file.text.matchAll(/^func (New\w+StepFactory)\(/gm)].map((m) => m[1] as string);
  return names.length === 1 ? names[0] : undefined;
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

const RETURNS_ERROR = String.raw`\{\s*return nil, fmt\.Errorf\(`;

/** The `case "a", "b":` of a `switch x {` (x a config variable) that encloses offset `at`, if any. */
function enclosingCase(body: string, at: number, variables: Map<string, { key: string }>): { key: string; values: string[] } | undefined {
  const before = body.slice(0, at);
  const cases = [...before.matchAll(/case ((?:"[^"]*",?\s*)+):/g)];
  const last = cases.at(-1);
  if (!last || last.index === undefined || /default:/.test(before.slice(last.index))) return undefined;
  const switches = [...before.slice(0, last.index).matchAll(/switch (\w+) \{/g)];
  const variable = switches.at(-1)?.[1];
  const key = variable ? variables.get(variable)?.key : undefined;
  return key ? { key, values: [...(last[1] as string).matchAll(/"([^"]*)"/g)].map((v) => v[1] as string) } : undefined;
}

export function readStepFactory(file: EngineFile, factory: string): StepFacts | undefined {
  const found = factoryBody(file, factory);
  if (!found) return undefined;
  const { start, body } = found;
  const at = (offset: number) => ref(file, start + offset);
  const facts: StepFacts = { factory, file: file.path, required: [], options: [], aliases: [], noTemplates: [], exclusive: [] };
  const configKeys = new Set([...body.matchAll(/\b(?:config|cfg)\["([\w.-]+)"\]/g)].map((m) => m[1] as string));
  // variable → config key, and the kind it is read as: `x, _ := config["key"].(string)`, `s.x, ok = cfg["key"].([]any)`
  const variables = new Map<string, { key: string; kind: ValueKind }>();
  // `x, _ = config["other"]` (plain `=`) after x was read from another key is a fallback: an alias.
  // `v, ok := config["k"]` declares a new variable, so a reused name is just a new read.
  for (const m of body.matchAll(/([\w.]+), (?:_|ok) (:?=) (?:config|cfg)\["([\w.-]+)"\](?:\.\(([^)]+)\))?/g)) {
    const [, variable, operator, key, assertion] = m;
    if (!variable || !key) continue;
    const earlier = variables.get(variable);
    if (earlier && earlier.key !== key && operator === '=') facts.aliases.push({ key: earlier.key, alias: key, source: at(m.index) });
    else if (!earlier || operator === ':=') variables.set(variable, { key, kind: KIND_BY_ASSERTION[assertion ?? ''] ?? 'any' });
  }
  const kindOf = (key: string): ValueKind => [...variables.values()].find((v) => v.key === key)?.kind ?? 'any';
  const addRequired = (key: string, offset: number) => {
    if (facts.required.some((r) => r.key === key)) return;
    const when = enclosingCase(body, offset, variables);
    facts.required.push({ key, kind: kindOf(key), source: at(offset), ...(when ? { when } : {}) });
  };
  // `'x' is required` (not `'a' or 'b' is required`, not `… is required when …`)
  for (const m of body.matchAll(/fmt\.Errorf\("([^"]*)"/g)) {
    const message = m[1] as string;
    const offset = (m.index ?? 0) + 'fmt.Errorf("'.length;
    const plain = /'([\w.-]+)'(?: map| list)? is required/.exec(message);
    if (plain && !/' or '/.test(message) && !/ is required when /.test(message)) addRequired(plain[1] as string, offset + plain.index);
    const wanting = /requires a (?:non-empty )?'([\w.-]+)'(?: map| list)?/.exec(message);
    if (wanting && configKeys.has(wanting[1] as string)) addRequired(wanting[1] as string, offset + wanting.index);
    const either = /must specify '([\w.-]+)'[^']* or [^']*'([\w.-]+)'/.exec(message) ?? /^[^']*'([\w.-]+)' or '([\w.-]+)' is required$/.exec(message);
    if (either && configKeys.has(either[1] as string) && configKeys.has(either[2] as string)) {
      (facts.oneOf ??= []).push({ keys: [either[1] as string, either[2] as string], source: at(offset + either.index) });
    }
    const positive = /(?:'([\w.-]+)'|\b([\w]+)) must be positive/.exec(message);
    const positiveKey = positive ? (positive[1] ?? positive[2]) : undefined;
    if (positive && positiveKey && configKeys.has(positiveKey)) (facts.positive ??= []).push({ key: positiveKey, source: at(offset + positive.index) });
  }
  // `if x, ok := config["k"].(string); ok && x != "" { d, err := time.ParseDuration(x); if err != nil { return nil, … } }`
  for (const m of body.matchAll(/(\w+), ok := (?:config|cfg)\["([\w.-]+)"\]\.\(string\); ok && \1 != "" \{\s*\w+, err := time\.ParseDuration\(\1\)\s*if err != nil \{\s*return nil, fmt\.Errorf/g)) {
    (facts.durations ??= []).push({ key: m[2] as string, source: at(m.index + m[0].lastIndexOf('return nil')) });
  }
  for (const m of body.matchAll(/'([\w.-]+)' and '([\w.-]+)' are mutually exclusive/g)) {
    facts.exclusive.push({ keys: [m[1] as string, m[2] as string], source: at(m.index) });
  }
  for (const m of body.matchAll(/strings\.Contains\((\w+), "\{\{"\)/g)) {
    const key = variables.get(m[1] as string)?.key;
    if (key) facts.noTemplates.push({ key, source: at(m.index) });
  }
  // switch x { case "a", "b": … case "c": … default: return nil, fmt.Errorf(…) }
  for (const m of body.matchAll(new RegExp(String.raw`switch (\w+) \{((?:(?!switch )[\s\S])*?)default:\s*return nil, fmt\.Errorf`, 'g'))) {
    const key = variables.get(m[1] as string)?.key;
    const values = [...(m[2] as string).matchAll(/case ((?:"[^"]*",?\s*)+):/g)].flatMap((c) => [...(c[1] as string).matchAll(/"([^"]*)"/g)].map((v) => v[1] as string));
    if (key && values.length > 0) facts.options.push({ key, values, source: at(m.index + m[0].lastIndexOf('return nil')) });
  }
  // if x != "a" && x != "b" { return nil, fmt.Errorf(…) }
  for (const m of body.matchAll(new RegExp(String.raw`if ((\w+) != "[^"]*"(?: && \2 != "[^"]*")+) ${RETURNS_ERROR}`, 'g'))) {
    const key = variables.get(m[2] as string)?.key;
    const values = [...(m[1] as string).matchAll(/"([^"]*)"/g)].map((v) => v[1] as string);
    if (key) facts.options.push({ key, values, source: at(m.index + m[0].lastIndexOf('return nil')) });
  }
  // defaults: `if x == "" { x = "v" }` after reading x, or `x := 60` before `if v, ok := config["k"]`
  for (const m of body.matchAll(/if ([\w.]+) == "" \{\s*\1 = ([^\n]+)/g)) {
    const key = variables.get(m[1] as string)?.key;
    const value = /^"([^"]*)"$/.exec((m[2] as string).trim())?.[1];
    if (key && !(m[2] as string).includes('config[') && !(m[2] as string).includes('cfg[')) {
      (facts.defaults ??= []).push({ key, ...(value !== undefined ? { value } : {}), source: at(m.index) });
    }
  }
  for (const m of body.matchAll(/(\w+) := ([^\n]+)\n\s*if (?:v|val|\w+), ok := (?:config|cfg)\["([\w.-]+)"\]/g)) {
    const key = m[3] as string;
    if (!facts.defaults?.some((d) => d.key === key)) (facts.defaults ??= []).push({ key, source: at(m.index) });
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
  const registered = stepRegistrations(goFiles);
  // A step file no registration map among the files names: its type from the file name, when it defines one factory.
  const byFileName: string[] = [];
  for (const file of goFiles) {
    const type = /^module\/pipeline_step_(\w+)\.go$/.exec(file.path)?.[1];
    const factory = onlyFactoryIn(file);
    if (!type || !factory || registered.has(`step.${type}`) || [...registered.values()].includes(factory)) continue;
    registered.set(`step.${type}`, factory);
    byFileName.push(`step.${type}`);
  }
  for (const [type, factory] of [...registered].sort(([a], [b]) => a.localeCompare(b))) {
    const conventional = byPath.get(`module/pipeline_step_${type.slice('step.'.length)}.go`);
    const file = conventional && factoryBody(conventional, factory) ? conventional : goFiles.find((f) => factoryBody(f, factory));
    const read = file && readStepFactory(file, factory);
    if (read) facts.steps[type] = read;
  }
  const named = byFileName.filter((type) => type in facts.steps).sort();
  if (named.length > 0) facts.registeredByFileName = named;
  return facts;
}
