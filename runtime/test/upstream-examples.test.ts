import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { PipelineSpec } from '../src/config/app-config.js';
import { checkSupport } from '../src/config/check-support.js';
import { loadConfig } from '../src/config/load-config.js';
import { call, runRefusing, startRuntime, stderrMatching } from './helpers/start-runtime.js';

// The engine's examples, vendored with their licence in the contracts' fixtures (the tests need nothing outside the repo).
const dir = join(import.meta.dirname, '..', '..', 'packages', 'contracts', 'test', 'fixtures', 'upstream');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

type Schema = { type?: string; required?: string[]; properties?: Record<string, Schema> };

/** A body that satisfies the pipeline's validate steps, so the request reaches its later steps. */
function sampleBody(p: PipelineSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const sample = (s: Schema | undefined) => (s?.type === 'number' || s?.type === 'integer' ? 1 : s?.type === 'array' ? [] : s?.type === 'object' ? {} : s?.type === 'boolean' ? true : 'sample');
  for (const step of p.steps) {
    if (step.type !== 'step.validate') continue;
    for (const f of (step.config.required_fields as string[] | undefined) ?? []) body[f] ??= {};
    const schema = step.config.schema as Schema | undefined;
    for (const f of schema?.required ?? []) body[f] ??= sample(schema?.properties?.[f]);
  }
  return body;
}

t.test('every upstream example is either served or refused with the supported list', async (t) => {
  const supported: string[] = [];
  for (const f of files) {
    let problems: string[];
    try {
      problems = checkSupport(await loadConfig([join(dir, f)], {}));
    } catch (err) {
      problems = [(err as Error).message];
    }
    if (problems.length) t.match(problems.join('\n'), /not supported|supported: /, `${f} is refused with a reason`);
    else supported.push(f);
  }
  t.ok(supported.includes('webhook-pipeline.yaml') && supported.includes('data-sync-pipeline.yaml'), `supported examples: ${supported.join(', ')}`);

  for (const f of supported) {
    t.test(`${f} starts and answers its routes`, async (t) => {
      const config = await loadConfig([join(dir, f)], {});
      const rt = await startRuntime(['--config', join(dir, f)]);
      t.teardown(() => rt.stop());
      const http = config.pipelines.filter((p) => p.trigger?.type === 'http');
      t.ok(http.length > 0, 'has HTTP pipelines');
      for (const p of http) {
        const method = String(p.trigger?.config.method ?? 'GET').toUpperCase();
        const path = String(p.trigger?.config.path).replace(/\{[^}]+\}|:[A-Za-z_]\w*/g, '1');
        const res = await call(`${rt.url}${path}`, { method, body: method === 'GET' || method === 'HEAD' ? undefined : sampleBody(p) });
        t.ok(res.status < 400, `${method} ${path} answers ${res.status}: ${res.text.slice(0, 200)}`);
        t.equal(typeof res.body, 'object', `${method} ${path} answers JSON`);
      }
    });
  }
});

t.test('webhook-pipeline: validate, set, conditional and log behave as the example describes', async (t) => {
  const rt = await startRuntime(['--config', join(dir, 'webhook-pipeline.yaml')]);
  t.teardown(() => rt.stop());
  const ok = await call(`${rt.url}/webhooks/stripe`, { body: { type: 'payment_intent.succeeded', data: { id: 'pi_123' } } });
  t.equal(ok.status, 200);
  t.match(ok.body, { event_type: 'payment_intent.succeeded', payload_id: 'pi_123', processed: 'true' }, 'set renders body fields and the conditional branch runs');
  t.match(await stderrMatching(rt, /Received webhook: payment_intent.succeeded for pi_123/), /Received webhook: payment_intent.succeeded for pi_123/, 'step.log renders its template');
  const missing = await call(`${rt.url}/webhooks/stripe`, { body: { type: 'x' } });
  t.equal(missing.status, 400, 'a missing required field is 400');
  t.match(missing.body.error, /missing required fields: data/);
  const badType = await call(`${rt.url}/api/orders/enrich`, { body: { customer_id: 7, items: [], total: 3 } });
  t.equal(badType.status, 400, 'json_schema types are checked');
  t.match(badType.body.error, /customer_id: expected string/);
  const order = await call(`${rt.url}/api/orders/enrich`, { body: { customer_id: 'c1', items: [], total: 3 } });
  t.match(order.body, { order_status: 'pending', customer_id: 'c1' });
  t.match(order.body.created_at, /^\d{4}-\d\d-\d\dT/, '.meta.started_at is the run start time');
});

t.test('a config with an unsupported module refuses to start, listing what is supported', async (t) => {
  const res = await runRefusing(['--config', join(dir, 'api-server-config.yaml')]);
  t.equal(res.code, 1, 'exits 1');
  t.equal(res.stdout, '', 'never prints a listening line');
  t.match(res.stderr, /unsupported module types: http\.handler \(module users-handler\)/);
  t.match(res.stderr, /supported: http\.server, http\.router, storage\.sqlite, database\.workflow, auth\.jwt, messaging\.broker, static\.fileserver/);
});

t.test('a config with an unsupported step refuses to start', async (t) => {
  const res = await runRefusing(['--config', join(dir, 'test-route-pipeline.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /unsupported step types: step\.delegate \(pipeline delete-order, step delete-order\); supported: step\.request_parse/);
});
