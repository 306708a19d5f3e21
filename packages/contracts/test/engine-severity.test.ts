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

t.test('a catalogue-required key that the factory was not read for only warns (step.delegate service)', async (t) => {
  accepts(t, pipeline('      - name: d\n        type: step.delegate\n        config: {}\n'), { code: 'WHARF111', line: 6 });
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
