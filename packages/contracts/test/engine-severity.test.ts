/**
 * Severity follows the engine: for each rule, a config the engine accepts (no error) and one it refuses
 * (an error), with the engine source it follows in the test name. The line numbers are those of
 * upstream/engine-behaviour.json (read from GoCodeAlone/workflow, commits listed there); each test also
 * checks that the message cites them, so a refreshed read that moves a line shows up here.
 */
import t, { type Test } from 'tap';
import { type Diagnostic, validateWorkflowFiles } from '../src/index.js';

const validate = (content: string): Diagnostic[] => validateWorkflowFiles([{ path: 'workflow.yaml', content }]).diagnostics;
const errors = (content: string) => validate(content).filter((d) => d.severity === 'error');

function refuses(t: Test, content: string, code: string, line: number, cites: RegExp) {
  const found = errors(content);
  const hit = found.find((d) => d.code === code && d.line === line);
  t.ok(hit, `error ${code} at line ${line}`, { found: validate(content).map((d) => `${d.line} ${d.severity} ${d.code} ${d.message}`) });
  if (hit) t.match(hit.message, cites, 'cites the engine source');
}

function accepts(t: Test, content: string, warns?: { code: string; line: number }) {
  t.same(errors(content).map((d) => `${d.line} ${d.code} ${d.message}`), [], 'no error');
  if (warns) {
    t.ok(
      validate(content).some((d) => d.severity === 'warning' && d.code === warns.code && d.line === warns.line),
      `warning ${warns.code} at line ${warns.line}`,
    );
  }
}

const pipeline = (steps: string) => `pipelines:
  p:
    steps:
${steps}`;

t.test('module required config key: schema/validate.go:275 refuses a module without it', async (t) => {
  const withKey = 'modules:\n  - name: pool\n    type: actor.pool\n    config:\n      system: actors\n  - name: actors\n    type: actor.system\n';
  accepts(t, withKey);
  refuses(t, 'modules:\n  - name: pool\n    type: actor.pool\n    config:\n      mode: permanent\n', 'WHARF111', 4, /schema\/validate\.go:275/);
});

t.test('module required key written empty: schema/validate.go:284 refuses it', async (t) => {
  refuses(t, 'modules:\n  - name: pool\n    type: actor.pool\n    config:\n      system: ""\n', 'WHARF114', 5, /schema\/validate\.go:284/);
});

t.test('module option types and choices: schema/validate.go checks presence only, so a mismatch warns', async (t) => {
  // actor.pool: poolSize is a number, routing one of round-robin, random, broadcast, sticky.
  accepts(
    t,
    'modules:\n  - name: pool\n    type: actor.pool\n    config:\n      system: actors\n      poolSize: "ten"\n      routing: fastest\n  - name: actors\n    type: actor.system\n',
    { code: 'WHARF110', line: 6 },
  );
  t.ok(validate('modules:\n  - name: pool\n    type: actor.pool\n    config:\n      system: actors\n      routing: fastest\n').some((d) => d.code === 'WHARF112' && d.severity === 'warning'));
});

t.test("step.set without values: module/pipeline_step_set.go:22 ('values' map is required) refuses it", async (t) => {
  accepts(t, pipeline('      - name: s\n        type: step.set\n        config:\n          values: { a: 1 }\n'));
  refuses(t, pipeline('      - name: s\n        type: step.set\n        config:\n          values: {}\n'), 'WHARF114', 7, /pipeline_step_set\.go:22/);
  refuses(t, pipeline('      - name: s\n        type: step.set\n'), 'WHARF111', 4, /pipeline_step_set\.go:22/);
});

t.test("step.log message: module/pipeline_step_log.go:36 ('message' is required) refuses a missing or non-text one", async (t) => {
  accepts(t, pipeline('      - name: l\n        type: step.log\n        config:\n          message: hi\n'));
  refuses(t, pipeline('      - name: l\n        type: step.log\n        config:\n          level: info\n'), 'WHARF111', 6, /pipeline_step_log\.go:36/);
  refuses(t, pipeline('      - name: l\n        type: step.log\n        config:\n          message: 42\n'), 'WHARF110', 7, /pipeline_step_log\.go:36/);
});

t.test('step.log level: module/pipeline_step_log.go:31 refuses other levels, compared exactly', async (t) => {
  accepts(t, pipeline('      - name: l\n        type: step.log\n        config:\n          level: warn\n          message: hi\n'));
  refuses(t, pipeline('      - name: l\n        type: step.log\n        config:\n          level: verbose\n          message: hi\n'), 'WHARF112', 7, /pipeline_step_log\.go:31/);
  refuses(t, pipeline('      - name: l\n        type: step.log\n        config:\n          level: WARN\n          message: hi\n'), 'WHARF112', 7, /pipeline_step_log\.go:31/);
});

t.test('step.db_query mode: module/pipeline_step_db_query.go:63 refuses unknown modes; the catalogue\'s many/one are accepted', async (t) => {
  const step = (mode: string) => pipeline(`      - name: q\n        type: step.db_query\n        config:\n          database: db\n          query: SELECT 1\n          mode: ${mode}\n`);
  accepts(t, step('single'));
  accepts(t, step('many'));
  refuses(t, step('bogus'), 'WHARF112', 9, /pipeline_step_db_query\.go:63/);
});

t.test('templates in SQL: module/pipeline_step_db_exec.go:35 refuses them unless allow_dynamic_sql is on', async (t) => {
  const step = (extra: string) =>
    pipeline(`      - name: x\n        type: step.db_exec\n        config:\n          database: db\n          query: "DELETE FROM t WHERE id = {{ .id }}"\n${extra}`);
  refuses(t, step(''), 'WHARF114', 8, /pipeline_step_db_exec\.go:35/);
  accepts(t, step('          allow_dynamic_sql: true\n'));
});

t.test("step.foreach: module/pipeline_step_foreach.go:73 refuses 'step' and 'steps' together", async (t) => {
  const base = '      - name: each\n        type: step.foreach\n        config:\n          collection: items\n';
  accepts(t, pipeline(`${base}          step: { name: l, type: step.log, config: { message: hi } }\n`));
  refuses(
    t,
    pipeline(`${base}          step: { name: l, type: step.log, config: { message: hi } }\n          steps: []\n`),
    'WHARF114',
    9,
    /pipeline_step_foreach\.go:73/,
  );
});

t.test('a catalogue-required key that the factory was not read for only warns (step.while condition)', async (t) => {
  accepts(t, pipeline('      - name: w\n        type: step.while\n        config: {}\n'), { code: 'WHARF111', line: 6 });
});

/**
 * Factories read in the second pass: a key the factory refuses the step without (`'x' is required`),
 * where the engine's catalogue marks it required too. Each: the step with the key loads; without it
 * (or with it empty) the engine refuses it, at the factory line cited.
 */
const REQUIRED_KEYS: { type: string; key: string; cites: string; others?: string }[] = [
  { type: 'step.delegate', key: 'service', cites: 'pipeline_step_delegate.go:31' },
  { type: 'step.base64_decode', key: 'input_from', cites: 'pipeline_step_base64_decode.go:68' },
  { type: 'step.cache_get', key: 'key', cites: 'pipeline_step_cache_get.go:34', others: 'cache: c' },
  { type: 'step.cache_set', key: 'value', cites: 'pipeline_step_cache_set.go:37', others: 'cache: c, key: k' },
  { type: 'step.cache_delete', key: 'cache', cites: 'pipeline_step_cache_delete.go:24', others: 'key: k' },
  { type: 'step.feature_flag', key: 'flag', cites: 'pipeline_step_feature_flag.go:29' },
  { type: 'step.ff_gate', key: 'flag', cites: 'pipeline_step_ff_gate.go:29', others: 'on_enabled: a, on_disabled: b' },
  { type: 'step.hash', key: 'input', cites: 'pipeline_step_hash.go:41' },
  { type: 'step.json_parse', key: 'source', cites: 'pipeline_step_json_parse.go:34' },
  { type: 'step.raw_response', key: 'content_type', cites: 'pipeline_step_raw_response.go:28' },
  { type: 'step.regex_match', key: 'input', cites: 'pipeline_step_regex_match.go:35', others: 'pattern: "^a"' },
  { type: 'step.static_file', key: 'content_type', cites: 'pipeline_step_static_file.go:33', others: 'file: index.html' },
  { type: 'step.workflow_call', key: 'workflow', cites: 'pipeline_step_workflow_call.go:48' },
  { type: 'step.sub_workflow', key: 'workflow', cites: 'pipeline_step_sub_workflow.go:37' },
  { type: 'step.db_query_cached', key: 'cache_key', cites: 'pipeline_step_db_query_cached.go:58', others: 'database: db, query: "SELECT 1"' },
];

for (const { type, key, cites, others } of REQUIRED_KEYS) {
  t.test(`${type} without ${key}: module/${cites} ('${key}' is required) refuses it`, async (t) => {
    const step = (entries: string) => pipeline(`      - name: s\n        type: ${type}\n        config: { ${entries} }\n`);
    const rest = others ? `${others}, ` : '';
    accepts(t, step(`${rest}${key}: x`));
    refuses(t, step(others ?? ''), 'WHARF111', 6, new RegExp(cites.replace('.', '\\.')));
    refuses(t, step(`${rest}${key}: ""`), 'WHARF114', 6, new RegExp(cites.replace('.', '\\.')));
  });
}

t.test("step.validate_path_param: module/pipeline_step_validate_path_param.go:28 ('params' list is required) refuses an empty list", async (t) => {
  const step = (params: string) => pipeline(`      - name: v\n        type: step.validate_path_param\n        config:\n          params: ${params}\n`);
  accepts(t, step('[id]'));
  refuses(t, step('[]'), 'WHARF114', 7, /pipeline_step_validate_path_param\.go:28/);
});

t.test("step.parallel: module/pipeline_step_parallel.go:29 needs 'steps', :37 refuses other error strategies", async (t) => {
  const step = (config: string) => pipeline(`      - name: fan\n        type: step.parallel\n        config:\n${config}`);
  const branches = '          steps:\n            - { name: a, type: step.set, config: { values: { x: 1 } } }\n';
  accepts(t, step(branches));
  accepts(t, step(`${branches}          error_strategy: collect_errors\n`));
  refuses(t, step('          error_strategy: fail_fast\n'), 'WHARF111', 6, /pipeline_step_parallel\.go:29/);
  refuses(t, step(`${branches}          error_strategy: best_effort\n`), 'WHARF112', 9, /pipeline_step_parallel\.go:37/);
});

t.test('step.validate: the default strategy required_fields needs its list (module/pipeline_step_validate.go:25 and :47); json_schema needs a schema (:41)', async (t) => {
  const step = (config: string) => pipeline(`      - name: v\n        type: step.validate\n        config:\n${config}`);
  accepts(t, step('          required_fields: [name]\n'));
  accepts(t, step('          strategy: json_schema\n          schema: { type: object }\n'));
  const missing = errors(step('          source: steps.parse.body\n'));
  t.match(missing.find((d) => d.code === 'WHARF111')?.message ?? '', /"required_fields" as a non-empty list when "strategy" is "required_fields" \(its default\).*pipeline_step_validate\.go:47/);
  refuses(t, step('          strategy: json_schema\n'), 'WHARF111', 6, /pipeline_step_validate\.go:41/);
  refuses(t, step('          strategy: schema\n          required_fields: [a]\n'), 'WHARF112', 7, /pipeline_step_validate\.go:59/);
});

t.test("step.transform: module/pipeline_step_transform.go:51 needs 'transformer' or 'operations'", async (t) => {
  const step = (config: string) => pipeline(`      - name: t\n        type: step.transform\n        config: ${config}\n`);
  accepts(t, step('{ transformer: shaper }'));
  accepts(t, step('{ operations: [{ type: map, config: {} }] }'));
  refuses(t, step('{ pipeline: p }'), 'WHARF111', 6, /pipeline_step_transform\.go:51/);
});

t.test('step.rate_limit: the factory defaults requests_per_minute (pipeline_step_rate_limit.go:62), so a missing one warns; zero is refused (:72)', async (t) => {
  const step = (config: string) => pipeline(`      - name: r\n        type: step.rate_limit\n        config: ${config}\n`);
  accepts(t, step('{ burst_size: 5 }'), { code: 'WHARF111', line: 6 });
  t.match(validate(step('{ burst_size: 5 }')).find((d) => d.code === 'WHARF111')?.message, /fills it in when it is missing \(module\/pipeline_step_rate_limit\.go:62\)/);
  refuses(t, step('{ requests_per_minute: 0 }'), 'WHARF114', 6, /pipeline_step_rate_limit\.go:72/);
  refuses(t, step('{ requests_per_minute: 10, burst_size: -1 }'), 'WHARF114', 6, /pipeline_step_rate_limit\.go:85/);
});

t.test('step.hash algorithm: module/pipeline_step_hash.go:36 refuses other algorithms', async (t) => {
  const step = (algorithm: string) => pipeline(`      - name: h\n        type: step.hash\n        config:\n          input: x\n          algorithm: ${algorithm}\n`);
  accepts(t, step('sha512'));
  refuses(t, step('sha1'), 'WHARF112', 8, /pipeline_step_hash\.go:36/);
});

t.test("step.event_publish: 'stream' stands for 'topic' (pipeline_step_event_publish.go:49); the catalogue does not require either, so neither only warns", async (t) => {
  const step = (config: string) => pipeline(`      - name: e\n        type: step.event_publish\n        config: ${config}\n`);
  accepts(t, step('{ stream: orders }'));
  accepts(t, step('{ topic: orders }'));
  accepts(t, step('{ source: app }'), { code: 'WHARF111', line: 6 });
  t.match(validate(step('{ source: app }')).find((d) => d.code === 'WHARF111')?.message, /no "topic" \(or "stream"\).*pipeline_step_event_publish\.go:52/);
});

t.test('step.ff_gate on_enabled: the factory read refuses it (pipeline_step_ff_gate.go:34) but the catalogue does not require it: a warning', async (t) => {
  accepts(t, pipeline('      - name: g\n        type: step.ff_gate\n        config: { flag: beta, on_disabled: off }\n'), { code: 'WHARF111', line: 6 });
});

t.test('a wrong type on an optional step key warns: the factory reads it as missing (pipeline_step_http_call.go)', async (t) => {
  accepts(t, pipeline('      - name: h\n        type: step.http_call\n        config:\n          url: https://api.example.com/x\n          timeout: 30\n'), {
    code: 'WHARF110',
    line: 8,
  });
});

t.test('a step without a name warns: engine.go buildPipelineSteps passes "" to the factory', async (t) => {
  accepts(t, pipeline('      - type: step.log\n        config:\n          message: hi\n'), { code: 'WHARF111', line: 4 });
  refuses(t, pipeline('      - name: no-type\n        config: {}\n'), 'WHARF111', 4, /"type"/);
});

t.test('a duplicate step name warns: the engine builds both steps', async (t) => {
  accepts(
    t,
    pipeline('      - name: a\n        type: step.log\n        config: { message: one }\n      - name: a\n        type: step.log\n        config: { message: two }\n'),
    { code: 'WHARF133', line: 7 },
  );
});

const routes = (a: string, b: string) => `modules:
  - name: server
    type: http.server
    config: { address: ":8080" }
  - name: router
    type: http.router
  - name: h
    type: http.handler
workflows:
  http:
    router: router
    routes:
      - { method: GET, path: "${a}", handler: h }
      - { method: GET, path: "${b}", handler: h }
`;

t.test('the same route twice: module/http_router.go:122 skips the second, so it warns and names it', async (t) => {
  accepts(t, routes('/users', '/users'), { code: 'WHARF135', line: 14 });
  const warning = validate(routes('/users', '/users')).find((d) => d.code === 'WHARF135');
  t.match(warning?.message, /Route GET \/users here will never answer.*workflow\.yaml:13.*http_router\.go:122/);
});

t.test('routes that differ only in parameter names: ServeMux panics in module/http_router.go:204', async (t) => {
  refuses(t, routes('/orders/{id}', '/orders/{orderId}'), 'WHARF135', 14, /http_router\.go:204/);
  refuses(t, routes('/a/{x}', '/{y}/b'), 'WHARF135', 14, /http_router\.go:204/);
  accepts(t, routes('/items/{id}', '/items/new'));
  accepts(t, routes('/items/{id}', '/items/{id}/parts'));
});

t.test('a conditional that routes to a missing step fails at run time (pipeline_step_conditional.go Execute): an error', async (t) => {
  const step = (target: string) =>
    pipeline(
      `      - name: c\n        type: step.conditional\n        config:\n          field: status\n          routes: { ok: ${target} }\n      - name: done\n        type: step.log\n        config: { message: done }\n`,
    );
  accepts(t, step('done'));
  refuses(t, step('dnoe'), 'WHARF138', 8, /^Fails at run time: .*pipeline_step_conditional\.go/);
});

t.test("step.conditional's if/then/else (in the engine's catalogue) loads without field and routes", async (t) => {
  accepts(
    t,
    pipeline(
      '      - name: c\n        type: step.conditional\n        config:\n          if: "{{ gt .total 10 }}"\n          then: big\n          else: small\n      - name: big\n        type: step.log\n        config: { message: big }\n      - name: small\n        type: step.log\n        config: { message: small }\n',
    ),
  );
});

t.test('durations the factory parses: module/pipeline_step_circuit_breaker.go:71 and pipeline_step_cache_set.go:44 refuse what Go cannot parse', async (t) => {
  const breaker = (timeout: string) => pipeline(`      - name: cb\n        type: step.circuit_breaker\n        config:\n          service: api\n          timeout: ${timeout}\n`);
  accepts(t, breaker('45s'));
  accepts(t, breaker('"{{ .t }}"'));
  refuses(t, breaker('30 seconds'), 'WHARF114', 8, /pipeline_step_circuit_breaker\.go:71/);
  const cache = (ttl: string) => pipeline(`      - name: c\n        type: step.cache_set\n        config: { cache: c, key: k, value: v, ttl: ${ttl} }\n`);
  accepts(t, cache('1h30m'));
  refuses(t, cache('1d'), 'WHARF114', 6, /pipeline_step_cache_set\.go:44/);
});

t.test('positive numbers: module/pipeline_step_circuit_breaker.go:51 refuses a failure_threshold of zero', async (t) => {
  const step = (n: number) => pipeline(`      - name: cb\n        type: step.circuit_breaker\n        config: { service: api, failure_threshold: ${n} }\n`);
  accepts(t, step(3));
  refuses(t, step(0), 'WHARF114', 6, /pipeline_step_circuit_breaker\.go:51/);
});

t.test("step.webhook_verify: module/pipeline_step_webhook_verify.go:66 needs 'scheme' or 'provider'", async (t) => {
  const step = (config: string) => pipeline(`      - name: w\n        type: step.webhook_verify\n        config: ${config}\n`);
  accepts(t, step('{ provider: github, secret: s }'));
  accepts(t, step('{ scheme: hmac-sha256, secret: s, signature_header: X-Sig }'));
  const found = validate(step('{ secret: s }')).find((d) => d.code === 'WHARF111' && /"scheme" or "provider"/.test(d.message));
  t.ok(found, 'reported');
  t.match(found?.message, /pipeline_step_webhook_verify\.go:66/);
});

t.test('step.db_query_cached: module/pipeline_step_db_query_cached.go:100 refuses modes neither it nor the catalogue lists', async (t) => {
  const step = (extra: string) => pipeline(`      - name: q\n        type: step.db_query_cached\n        config: { database: db, cache_key: k, query: "SELECT 1"${extra} }\n`);
  accepts(t, step(', mode: list'));
  refuses(t, step(', mode: rows'), 'WHARF112', 6, /pipeline_step_db_query_cached\.go:100/);
});

t.test('step.statemachine_transition: the factory read (:40) and the catalogue name different keys, so neither blocks (warnings)', async (t) => {
  accepts(t, pipeline('      - name: s\n        type: step.statemachine_transition\n        config: { engine: sm, instanceId: "1", transition: approve }\n'), { code: 'WHARF111', line: 6 });
});
