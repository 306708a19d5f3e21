/**
 * step.foreach, step.parallel and step.delegate as the engine defines them (module/pipeline_step_foreach.go,
 * pipeline_step_parallel.go, pipeline_step_delegate.go), and the collection template functions the engine's
 * examples use with them (sum, pluck, unique, groupBy, min/max by key).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createRuntime } from '../src/runtime.js';
import { call } from './helpers/start-runtime.js';

async function start(t: Test, yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-substeps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'app.yaml');
  writeFileSync(file, yaml);
  const rt = await createRuntime({ configFiles: [file], port: 0, digest: 'd1' });
  t.teardown(() => rt.close());
  return rt.url;
}

const route = (path: string, steps: string, method = 'POST') => `  ${path.slice(1).replace(/\W/g, '-')}:
    trigger: { type: http, config: { path: ${path}, method: ${method} } }
    steps:
${steps}`;

t.test('step.foreach runs its sub-steps per item with item, index and foreach in scope; sub-steps are written flat', async (t) => {
  const url = await start(
    t,
    `pipelines:
${route(
  '/each',
  `      - name: each
        type: step.foreach
        config:
          collection: body.items
          item_var: it
          steps:
            - { name: label, type: step.set, values: { label: "{{ .it.name }}#{{ .index }}" } }
            - { name: again, type: step.set, values: { echo: "{{ .label }}/{{ .foreach.index }}" } }
      - name: out
        type: step.json_response
        config:
          body: { results: { _from: steps.each.results }, count: "{{ .steps.each.count }}", ids: '{{ json (pluck .steps.each.results "label") }}' }
`,
)}
${route(
  '/none',
  `      - { name: each, type: step.foreach, config: { collection: missing_but_null, step: { type: step.set, values: { x: "1" } } } }
      - { name: out, type: step.json_response, config: { body: { count: "{{ .steps.each.count }}" } } }
`,
)}`,
  );
  const res = await call(`${url}/each`, { body: { items: [{ name: 'a' }, { name: 'b' }] } });
  t.equal(res.status, 200);
  t.same(res.body.results, [
    { label: 'a#0', echo: 'a#0/0' },
    { label: 'b#1', echo: 'b#1/1' },
  ], "each item's outputs merged in order; later sub-steps see earlier ones");
  t.equal(res.body.count, '2');
  t.equal(res.body.ids, '["a#0","b#1"]', 'pluck over the results');
  const none = await call(`${url}/none`, { body: { missing_but_null: null } });
  t.equal(none.body.count, '0', 'a null collection is empty, as in the engine');
  const bad = await call(`${url}/none`, { body: { missing_but_null: 'text' } });
  t.equal(bad.status, 500, 'a collection that is not a list fails the step');
  t.match(bad.body.error, /expected a slice/);
});

t.test('step.foreach with concurrency and collect_errors records failed items; fail_fast fails the step', async (t) => {
  const each = (strategy: string) => `      - name: each
        type: step.foreach
        config:
          collection: body.items
          concurrency: 3
          error_strategy: ${strategy}
          step: { type: step.validate, strategy: required_fields, required_fields: [id], source: foreach.item }
      - { name: out, type: step.json_response, config: { body: { results: { _from: steps.each.results }, errors: "{{ .steps.each.error_count }}" } } }
`;
  const url = await start(t, `pipelines:\n${route('/collect', each('collect_errors'))}\n${route('/fast', each('fail_fast'))}`);
  const items = [{ id: 1 }, { nope: 1 }, { id: 3 }];
  const collected = await call(`${url}/collect`, { body: { items } });
  t.equal(collected.status, 200);
  t.equal(collected.body.errors, '1');
  t.match(collected.body.results[1], { _index: 1, _error: /iteration 1, sub-step "each-step" failed: .*missing required fields: id/ });
  t.same(collected.body.results[0], {}, 'a passing item keeps its (empty) output');
  const fast = await call(`${url}/fast`, { body: { items } });
  t.equal(fast.status, 500);
  t.match(fast.body.error, /iteration 1/);
});

t.test('step.parallel runs named branches on copies of the context and collects results and errors', async (t) => {
  const url = await start(
    t,
    `pipelines:
${route(
  '/fan',
  `      - name: fan
        type: step.parallel
        config:
          error_strategy: collect_errors
          steps:
            - { name: profile, type: step.set, values: { name: "User {{ .body.id }}" } }
            - { name: strict, type: step.validate, strategy: required_fields, required_fields: [missing] }
      - { name: out, type: step.json_response, config: { body: { fan: { _from: steps.fan }, leaked: "{{ .name }}" } } }
`,
)}
${route(
  '/fail',
  `      - name: fan
        type: step.parallel
        config:
          steps:
            - { name: ok, type: step.set, values: { a: "1" } }
            - { name: strict, type: step.validate, strategy: required_fields, required_fields: [missing] }
`,
)}`,
  );
  const res = await call(`${url}/fan`, { body: { id: 7 } });
  t.equal(res.status, 200);
  t.same(res.body.fan.results, { profile: { name: 'User 7' } });
  t.match(res.body.fan.errors, { strict: /missing required fields: missing/ });
  t.match(res.body.fan, { completed: 1, failed: 1 });
  t.equal(res.body.leaked, '', "a branch's values stay in its own copy of the context");
  const failed = await call(`${url}/fail`, { body: {} });
  t.equal(failed.status, 500, 'fail_fast (the default) fails the step with the first failed branch');
  t.match(failed.body.error, /branch "strict" failed/);
});

t.test('step.parallel and step.foreach refuse what the engine refuses at load', async (t) => {
  const refused = async (steps: string, message: RegExp) => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-substeps-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.yaml'), `pipelines:\n${route('/x', steps)}`);
    await t.rejects(createRuntime({ configFiles: [join(dir, 'app.yaml')], port: 0, digest: 'd' }), message);
  };
  await refused('      - { name: fan, type: step.parallel, config: { steps: [] } }\n', /'steps' list is required/);
  await refused('      - { name: fan, type: step.parallel, config: { steps: [{ type: step.set, values: {} }] } }\n', /steps\[0\] requires a 'name'/);
  await refused('      - { name: fan, type: step.parallel, config: { steps: [{ name: a, type: step.log, message: x }, { name: a, type: step.log, message: y }] } }\n', /duplicate branch name "a"/);
  await refused('      - { name: fan, type: step.parallel, config: { error_strategy: best_effort, steps: [{ name: a, type: step.log, message: x }] } }\n', /error_strategy must be/);
  await refused('      - { name: e, type: step.foreach, config: { collection: x, step: { type: step.log, message: a }, steps: [] } }\n', /'step' and 'steps' are mutually exclusive/);
  await refused('      - { name: e, type: step.foreach, config: { step: { type: step.log, message: a } } }\n', /'collection' is required/);
  await refused('      - { name: e, type: step.foreach, config: { collection: x, step: { type: step.set, config: { values: { a: 1 } } } } }\n', /config\.values must be a map/);
});

t.test('step.delegate hands the request to a handler module; a missing service fails when it runs', async (t) => {
  const url = await start(
    t,
    `modules:
  - { name: items, type: api.handler, config: { resourceName: items } }
  - { name: plain, type: http.handler }
pipelines:
${route('/items', '      - { name: d, type: step.delegate, config: { service: items } }\n', 'GET')}
${route('/plain', '      - { name: d, type: step.delegate, config: { service: plain } }\n', 'GET')}
${route('/gone', '      - { name: d, type: step.delegate, config: { service: order-service } }\n', 'DELETE')}`,
  );
  t.same((await call(`${url}/plain`)).body, { handler: 'plain', status: 'success', message: 'Default handler response' }, 'http.handler answered');
  const list = await call(`${url}/items`);
  t.equal(list.status, 200, 'api.handler answered the GET');
  const gone = await call(`${url}/gone`, { method: 'DELETE' });
  t.equal(gone.status, 500);
  t.match(gone.body.error, /service "order-service" not found in registry/);
});

t.test('collection template functions: sum, min, max by key, unique, groupBy, sortBy, flatten', async (t) => {
  const url = await start(
    t,
    `pipelines:
${route(
  '/stats',
  `      - name: data
        type: step.set
        config:
          values:
            sales: [{ region: east, amount: 100 }, { region: west, amount: 200 }, { region: east, amount: 150.5 }]
            nums: [5, 2, 9]
            nested: [[1, 2], [3]]
      - name: out
        type: step.json_response
        config:
          body:
            total: '{{ sum .sales "amount" }}'
            ints: '{{ sum .nums }}'
            max: '{{ max .sales "amount" }}'
            min: '{{ min .nums }}'
            plain: '{{ max 3 8 1 }}'
            regions: '{{ json (unique (pluck .sales "region")) }}'
            groups: '{{ len (index (groupBy .sales "region") "east") }}'
            sorted: '{{ json (pluck (sortBy .sales "amount") "amount") }}'
            flat: '{{ json (flatten .nested) }}'
`,
  'GET',
)}`,
  );
  const res = await call(`${url}/stats`);
  t.same(res.body, { total: '450.5', ints: '16', max: '200', min: '2', plain: '8', regions: '["east","west"]', groups: '2', sorted: '[100,150.5,200]', flat: '[1,2,3]' });
});
