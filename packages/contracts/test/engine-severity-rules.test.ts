/**
 * The rest of the engine's rules, one row each: the engine source line it follows (upstream/engine-behaviour.json,
 * read from GoCodeAlone/workflow), a step config the engine accepts (no error) and one it refuses (an error at the
 * step's config, whose message cites that line). Rules the factory read enforces but the engine's catalogue does not
 * (a newer engine may accept the step) are warnings that cite the line and the commit it was read at. The last test
 * checks that every rule of engine-behaviour.json is cited by a test here or in engine-severity.test.ts, so a refreshed
 * read that adds a rule fails until it has one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { type Diagnostic, validateWorkflowFiles } from '../src/index.js';
import { ENGINE_BEHAVIOUR } from '../src/generated/engine-behaviour.js';
import { catalogueOf } from '../src/workflow/engine/check-step-factory.js';

const validate = (content: string): Diagnostic[] => validateWorkflowFiles([{ path: 'workflow.yaml', content }]).diagnostics;
const show = (ds: Diagnostic[]) => ds.map((d) => `${d.line} ${d.severity} ${d.code} ${d.message}`);
/** One step, its config on line 6. */
const step = (type: string, config: string) => `pipelines:\n  p:\n    steps:\n      - name: s\n        type: ${type}\n        config: { ${config} }\n`;
const cited = (source: string) => new RegExp(source.replace(/\./g, '\\.'));

interface Refusal {
  /** module/<file>:<line> as engine-behaviour.json cites it */
  source: string;
  type: string;
  accepted: string;
  refused: string;
  code: 'WHARF111' | 'WHARF114';
}

const REFUSALS: Refusal[] = [
  { source: 'module/pipeline_step_cache_delete.go:29', type: 'step.cache_delete', accepted: 'cache: c, key: k', refused: 'cache: c', code: 'WHARF111' },
  { source: 'module/pipeline_step_cache_get.go:29', type: 'step.cache_get', accepted: 'cache: c, key: k', refused: 'key: k', code: 'WHARF111' },
  { source: 'module/pipeline_step_cache_set.go:27', type: 'step.cache_set', accepted: 'cache: c, key: k, value: v', refused: 'key: k, value: v', code: 'WHARF111' },
  { source: 'module/pipeline_step_cache_set.go:32', type: 'step.cache_set', accepted: 'cache: c, key: k, value: v', refused: 'cache: c, value: v', code: 'WHARF111' },
  { source: 'module/pipeline_step_db_exec.go:31', type: 'step.db_exec', accepted: 'database: db, query: "DELETE FROM t"', refused: 'database: db', code: 'WHARF111' },
  { source: 'module/pipeline_step_db_query.go:39', type: 'step.db_query', accepted: 'database: db, query: "SELECT 1"', refused: 'database: db', code: 'WHARF111' },
  {
    source: 'module/pipeline_step_db_query.go:43',
    type: 'step.db_query',
    accepted: 'database: db, query: "SELECT * FROM t WHERE id = ?", params: ["{{ .id }}"]',
    refused: 'database: db, query: "SELECT * FROM t WHERE id = {{ .id }}"',
    code: 'WHARF114',
  },
  { source: 'module/pipeline_step_db_query_cached.go:48', type: 'step.db_query_cached', accepted: 'database: db, cache_key: k, query: "SELECT 1"', refused: 'database: db, cache_key: k', code: 'WHARF111' },
  {
    source: 'module/pipeline_step_db_query_cached.go:52',
    type: 'step.db_query_cached',
    accepted: 'database: db, cache_key: k, query: "SELECT * FROM t WHERE id = ?"',
    refused: 'database: db, cache_key: k, query: "SELECT * FROM t WHERE id = {{ .id }}"',
    code: 'WHARF114',
  },
  {
    source: 'module/pipeline_step_db_query_cached.go:65',
    type: 'step.db_query_cached',
    accepted: 'database: db, cache_key: k, query: "SELECT 1", cache_ttl: 5m',
    refused: 'database: db, cache_key: k, query: "SELECT 1", cache_ttl: 5 minutes',
    code: 'WHARF114',
  },
  { source: 'module/pipeline_step_circuit_breaker.go:64', type: 'step.circuit_breaker', accepted: 'service: api, success_threshold: 2', refused: 'service: api, success_threshold: 0', code: 'WHARF114' },
  { source: 'module/pipeline_step_validate_pagination.go:35', type: 'step.validate_pagination', accepted: 'max_limit: 100', refused: 'max_limit: 0', code: 'WHARF114' },
  {
    source: 'module/pipeline_step_foreach.go:33',
    type: 'step.foreach',
    accepted: 'collection: items, step: { name: l, type: step.log, config: { message: hi } }',
    refused: 'step: { name: l, type: step.log, config: { message: hi } }',
    code: 'WHARF111',
  },
  { source: 'module/pipeline_step_http_call.go:115', type: 'step.http_call', accepted: 'url: "https://api.example.com/x"', refused: 'method: GET', code: 'WHARF111' },
  { source: 'module/pipeline_step_jq.go:29', type: 'step.jq', accepted: 'expression: ".a"', refused: 'input_from: body', code: 'WHARF111' },
  { source: 'module/pipeline_step_publish.go:28', type: 'step.publish', accepted: 'topic: orders', refused: 'broker: b', code: 'WHARF111' },
  { source: 'module/pipeline_step_regex_match.go:25', type: 'step.regex_match', accepted: 'pattern: "^a", input: x', refused: 'input: x', code: 'WHARF111' },
  { source: 'module/pipeline_step_static_file.go:28', type: 'step.static_file', accepted: 'file: index.html, content_type: text/html', refused: 'content_type: text/html', code: 'WHARF111' },
];

for (const r of REFUSALS) {
  t.test(`${r.type}: ${r.source} refuses { ${r.refused} }`, async (t) => {
    t.same(show(validate(step(r.type, r.accepted)).filter((d) => d.severity === 'error')), [], `accepts { ${r.accepted} }`);
    const found = validate(step(r.type, r.refused));
    const hit = found.find((d) => d.severity === 'error' && d.code === r.code && d.line === 6 && cited(r.source).test(d.message));
    t.ok(hit, `error ${r.code} at line 6 citing ${r.source}`, { found: show(found) });
  });
}

/** The factory read refuses these, but the engine's catalogue does not mark the key required: warnings. */
const FACTORY_ONLY: { source: string; type: string; config: string }[] = [
  { source: 'module/pipeline_step_conditional.go:26', type: 'step.conditional', config: 'routes: { ok: s }' },
  { source: 'module/pipeline_step_conditional.go:31', type: 'step.conditional', config: 'field: status' },
  { source: 'module/pipeline_step_db_exec.go:26', type: 'step.db_exec', config: 'query: "DELETE FROM t"' },
  { source: 'module/pipeline_step_db_query.go:34', type: 'step.db_query', config: 'query: "SELECT 1"' },
  { source: 'module/pipeline_step_db_query_cached.go:43', type: 'step.db_query_cached', config: 'cache_key: k, query: "SELECT 1"' },
  { source: 'module/pipeline_step_ff_gate.go:39', type: 'step.ff_gate', config: 'flag: beta, on_enabled: s' },
  { source: 'module/pipeline_step_statemachine_transition.go:40', type: 'step.statemachine_transition', config: 'entity_id: "1", event: approve' },
  { source: 'module/pipeline_step_statemachine_transition.go:45', type: 'step.statemachine_transition', config: 'statemachine: sm, event: approve' },
  { source: 'module/pipeline_step_statemachine_transition.go:50', type: 'step.statemachine_transition', config: 'statemachine: sm, entity_id: "1"' },
];

for (const r of FACTORY_ONLY) {
  t.test(`${r.type}: ${r.source} is in the factory read only, so its absence warns`, async (t) => {
    const found = validate(step(r.type, r.config));
    t.same(show(found.filter((d) => d.severity === 'error')), [], 'no error');
    const hit = found.find((d) => d.severity === 'warning' && d.code === 'WHARF111' && d.line === 6 && cited(r.source).test(d.message));
    t.ok(hit, `warning citing ${r.source}`, { found: show(found) });
    t.match(hit?.message, /read at [0-9a-f]{12}/, 'names the commit the factory was read at');
  });
}

t.test('aliases the factory reads are not unknown keys: provider for broker (pipeline_step_event_publish.go:84), item_key for item_var (pipeline_step_foreach.go:39)', async (t) => {
  const unknownKeys = (content: string) => validate(content).filter((d) => d.code === 'WHARF113');
  t.same(show(unknownKeys(step('step.event_publish', 'topic: orders, provider: bus'))), [], 'provider is read as broker');
  t.equal(unknownKeys(step('step.event_publish', 'topic: orders, providr: bus')).length, 1, 'a misspelling still warns');
  t.same(show(unknownKeys(step('step.foreach', 'collection: items, item_key: it, step: { name: l, type: step.log, config: { message: hi } }'))), [], 'item_key is read as item_var');
});

t.test("a pipeline's trigger is best-effort: engine.go configurePipelines skips one without a type and only logs one it cannot configure", async (t) => {
  const pipeline = (trigger: string) => `pipelines:\n  p:\n    trigger: ${trigger}\n    steps:\n      - name: s\n        type: step.set\n        config: { values: { a: 1 } }\n`;
  t.same(show(validate(pipeline('{ type: http, config: { path: /x, method: GET } }'))), [], 'a trigger with its type');
  const untyped = validate(pipeline('{ config: { path: /x, method: GET } }'));
  t.same(show(untyped.filter((d) => d.severity === 'error')), [], 'without a type the pipeline loads');
  t.match(untyped.find((d) => d.code === 'WHARF111')?.message, /loads the pipeline without this trigger/);
  t.equal(untyped.find((d) => d.code === 'WHARF111')?.severity, 'warning');
  // yaml.Unmarshal into the engine's PipelineConfig fails on text where the trigger mapping belongs.
  t.equal(validate(pipeline('http')).find((d) => d.code === 'WHARF110')?.severity, 'error', 'a trigger that is not a mapping is refused');
});

const modules = (entries: string) => `modules:\n${entries}`;

t.test('duplicate module names: schema/validate.go:150 refuses a second module of the same name, but does not check step modules', async (t) => {
  const two = (type: string, name: string) => modules(`  - name: a\n    type: storage.sqlite\n  - name: ${name}\n    type: ${type}\n`);
  t.same(show(validate(two('storage.sqlite', 'b')).filter((d) => d.severity === 'error')), [], 'two names: no error');
  const refused = validate(two('storage.sqlite', 'a')).find((d) => d.code === 'WHARF130');
  t.equal(refused?.severity, 'error');
  t.equal(refused?.line, 4);
  t.match(refused?.message, /schema\/validate\.go:150/);
  const step = validate(two('step.set\n    config: { values: { x: 1 } }', 'a')).find((d) => d.code === 'WHARF130');
  t.equal(step?.severity, 'warning', 'a step module reusing the name loads');
  t.match(step?.message, /does not check the names of step modules \(schema\/validate\.go:150\)/);
});

t.test('dependsOn a missing module: schema/validate.go:194 refuses it', async (t) => {
  const dep = (name: string) => modules(`  - name: a\n    type: storage.sqlite\n  - name: b\n    type: storage.sqlite\n    dependsOn: [${name}]\n`);
  t.same(show(validate(dep('a')).filter((d) => d.severity === 'error')), [], 'an existing module');
  const refused = validate(dep('nope')).find((d) => d.code === 'WHARF131');
  t.equal(refused?.severity, 'error');
  t.equal(refused?.line, 6, 'at the entry');
});

t.test('every rule of engine-behaviour.json that decides a severity is cited by a test', async (t) => {
  const tests = ['engine-severity.test.ts', 'engine-severity-rules.test.ts']
    .map((f) => readFileSync(join(import.meta.dirname, f), 'utf8'))
    .join('\n')
    .replace(/\\\./g, '.');
  const sources: string[] = [...Object.values(ENGINE_BEHAVIOUR.modules), ...Object.values(ENGINE_BEHAVIOUR.routes)].filter((s): s is string => typeof s === 'string');
  for (const [type, facts] of Object.entries(ENGINE_BEHAVIOUR.steps)) {
    for (const rule of [...facts.required, ...facts.options, ...facts.aliases, ...facts.noTemplates, ...facts.exclusive, ...(facts.positive ?? []), ...(facts.durations ?? []), ...(facts.oneOf ?? [])]) {
      sources.push(rule.source);
    }
    // A default decides a severity only where the catalogue marks the key required (a warning instead of an error).
    for (const d of facts.defaults ?? []) if (catalogueOf(type).required.includes(d.key)) sources.push(d.source);
  }
  const uncited = [...new Set(sources)].filter((s) => !tests.includes(s.slice(s.lastIndexOf('/') + 1)));
  t.same(uncited, [], 'each rule has a test that cites its line');
});
