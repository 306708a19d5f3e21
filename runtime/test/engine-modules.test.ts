import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import pino from 'pino';
import t, { type Test } from 'tap';
import { createRuntime } from '../src/runtime.js';
import { call } from './helpers/start-runtime.js';

/** A runtime in this process on a config written to a temp dir, with its log lines collected. */
async function start(t: Test, yaml: string, allowHosts: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-modules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'app.yaml');
  writeFileSync(file, yaml);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const rt = await createRuntime({ configFiles: [file], dataDir: join(dir, 'data'), port: 0, digest: 'd1', log: pino({ level: 'info' }, sink), allowHosts });
  t.teardown(() => rt.close());
  const until = async (pred: (l: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 100 && !lines.some(pred); i++) await new Promise((r) => setTimeout(r, 50));
    return lines.filter(pred);
  };
  return { url: rt.url, lines, until };
}

t.test("the app's own /healthz, /readyz, /livez and /metrics (health.checker, metrics.collector) answer as the app declares them", async (t) => {
  const rt = await start(
    t,
    `modules:
  - { name: health, type: health.checker }
  - { name: metrics, type: metrics.collector, config: { metricsPath: /app-metrics } }
  - { name: logs, type: log.collector, config: { logLevel: info } }
pipelines:
  own-readyz:
    trigger: { type: http, config: { path: /readyz } }
    steps: [{ name: r, type: step.json_response, config: { body: { mine: true } } }]
`,
  );
  t.same((await call(`${rt.url}/healthz`)).body, { status: 'healthy', checks: {} }, 'health.checker owns /healthz');
  t.same((await call(`${rt.url}/readyz`)).body, { mine: true }, "the app's own /readyz route wins over health.checker's");
  t.same((await call(`${rt.url}/livez`)).body, { status: 'alive' });
  t.match((await call(`${rt.url}/app-metrics`)).text, /# TYPE wharf_runtime_http_requests_total counter/, 'metrics.collector serves on its metricsPath');
  t.match((await call(`${rt.url}/logs`)).body, { count: 0, entries: [], config: { logLevel: 'info' } }, 'log.collector never serves the runtime log');
  t.same((await call(`${rt.url}${RUNTIME_HEALTH_PATH}`)).body, { status: 'ok', digest: 'd1', stateful: false, dataFiles: [] }, "Wharf's check is unaffected");
});

t.test('top-level triggers: http routes, event subscriptions and schedules run pipelines', async (t) => {
  const rt = await start(
    t,
    `modules:
  - { name: bus, type: messaging.broker }
pipelines:
  place-order:
    steps:
      - { name: p, type: step.publish, config: { topic: orders, payload: { type: order.created, id: "{{ .id }}", note: "{{ .body.note }}" } } }
      - { name: r, type: step.json_response, config: { status: 201, body: { id: "{{ .id }}", q: "{{ .flag }}", fixed: "{{ .source }}" } } }
  on-created:
    steps:
      - { name: l, type: step.log, config: { message: "created {{ .id }} with {{ .note }} via {{ .via }}" } }
  on-other:
    steps:
      - { name: l, type: step.log, config: { message: "never for order.created" } }
  tick:
    steps:
      - { name: l, type: step.log, config: { message: "tick {{ .label }} at {{ .trigger_time }}" } }
triggers:
  http:
    routes:
      - { path: "/orders/{id}", method: POST, workflow: "pipeline:place-order", action: create, params: { source: trigger } }
  event:
    subscriptions:
      - { topic: orders, event: order.created, workflow: "pipeline:on-created", action: handle, params: { via: event } }
      - { topic: orders, event: order.cancelled, workflow: on-other, action: handle }
  schedule:
    jobs:
      - { cron: "* * * * * *", workflow: "pipeline:tick", action: run, params: { label: every-second } }
`,
  );
  const res = await call(`${rt.url}/orders/42?flag=yes`, { body: { note: 'rush' } });
  t.equal(res.status, 201);
  t.same(res.body, { id: '42', q: 'yes', fixed: 'trigger' }, 'path and query parameters and the route params are at the top, as in the engine');
  const created = await rt.until((l) => typeof l.message === 'string' && l.message.startsWith('created'));
  t.equal(created[0]?.message, 'created 42 with rush via event', 'the event subscription ran its pipeline with the message and its params');
  t.notOk(rt.lines.some((l) => l.message === 'never for order.created'), 'the event filter skips other event types');
  const ticks = await rt.until((l) => typeof l.message === 'string' && l.message.startsWith('tick every-second at '));
  t.ok(ticks.length >= 1, 'the schedule ran its pipeline with trigger_time and params');
});

t.test('workflows.messaging and workflows.scheduler drive messaging.handler modules; api.handler keeps resources', async (t) => {
  const rt = await start(
    t,
    `modules:
  - { name: message-broker, type: messaging.broker }
  - { name: every-second, type: scheduler.modular, config: { cronExpression: "* * * * * *" } }
  - { name: audit, type: messaging.handler }
  - { name: janitor, type: messaging.handler }
  - { name: users, type: api.handler, config: { resourceName: users } }
workflows:
  http:
    routes:
      - { method: GET, path: /api/users, handler: users }
      - { method: POST, path: /api/users, handler: users }
      - { method: GET, path: "/api/users/{id}", handler: users }
      - { method: PUT, path: "/api/users/{id}", handler: users }
      - { method: DELETE, path: "/api/users/{id}", handler: users }
  messaging:
    subscriptions:
      - { topic: users-events, handler: audit }
  scheduler:
    jobs:
      - { scheduler: every-second, job: janitor }
`,
  );
  const created = await call(`${rt.url}/api/users`, { body: { name: 'Ada' } });
  t.equal(created.status, 201);
  t.match(created.body, { id: '1', data: { name: 'Ada', id: '1' }, state: 'new' }, 'POST creates a resource with the next id');
  t.match((await call(`${rt.url}/api/users/1`)).body, { id: '1', data: { name: 'Ada' } });
  t.equal((await call(`${rt.url}/api/users`)).body.length, 1, 'GET lists them');
  t.same((await call(`${rt.url}/api/users/1`, { method: 'PUT', body: { name: 'Grace' } })).body, { id: '1', data: { name: 'Grace' } }, 'PUT replaces the data');
  t.equal((await call(`${rt.url}/api/users/1`, { method: 'DELETE' })).status, 204);
  t.same((await call(`${rt.url}/api/users/1`)).body, { error: 'Resource not found' });
  const events = await rt.until((l) => l.msg === 'Message received' && l.handler === 'audit');
  t.match(events[0], { topic: 'users-events', message: { eventType: 'users.created' } }, 'api.handler publishes to <resource>-events; the subscribed handler logs it');
  const jobs = await rt.until((l) => l.msg === 'Message received' && l.handler === 'janitor');
  t.same(jobs[0]?.message, {}, 'the scheduler hands its job an empty message on each tick');
});

t.test('a trigger that targets something other than a pipeline, and a bad cron, are refused', async (t) => {
  await t.rejects(
    start(t, `modules: []\npipelines:\n  p: { steps: [] }\ntriggers:\n  schedule:\n    jobs:\n      - { cron: "not a cron", workflow: "pipeline:p", action: run }\n  http:\n    routes:\n      - { path: /x, method: GET, workflow: order-workflow, action: go }\n`),
    /triggers\.http\.routes\[0\]: workflow "order-workflow" is not a pipeline; the runtime runs triggers into pipelines only/,
  );
  await t.rejects(start(t, `modules: []\npipelines:\n  p: { steps: [] }\ntriggers:\n  schedule:\n    jobs:\n      - { cron: "61 * * * *", workflow: "pipeline:p", action: run }\n`), /cron "61 \* \* \* \*" is not valid/);
});

t.test('step.http_call calls an allowed host and gives status_code, headers and the parsed body', async (t) => {
  const seen: { method?: string; body: string; auth?: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, body, auth: req.headers.authorization });
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ echo: body ? JSON.parse(body) : null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const rt = await start(
    t,
    `pipelines:
  call:
    trigger: { type: http, config: { path: /call, method: POST } }
    steps:
      - { name: up, type: step.http_call, config: { url: "http://127.0.0.1:${port}/items", method: POST, headers: { Authorization: "Bearer {{ .token }}" }, body: { name: "{{ .name }}" } } }
      - { name: r, type: step.json_response, config: { body: { status: "{{ .steps.up.status_code }}", upstream: '{{ index .steps.up.headers "X-Upstream" }}', echoed: "{{ .steps.up.body.echo.name }}" } } }
  missing:
    trigger: { type: http, config: { path: /missing } }
    steps:
      - { name: up, type: step.http_call, config: { url: "http://127.0.0.1:${port}/missing" } }
`,
    [`127.0.0.1:${port}`],
  );
  const res = await call(`${rt.url}/call`, { body: { name: 'widget', token: 't0k' } });
  t.same(res.body, { status: '200', upstream: 'yes', echoed: 'widget' });
  t.same(seen[0], { method: 'POST', body: '{"name":"widget"}', auth: 'Bearer t0k' }, 'method, templated headers and the JSON body reach the host');
  const missing = await call(`${rt.url}/missing`);
  t.equal(missing.status, 500, 'a status of 400 or more fails the step, as in the engine');
  t.match(missing.body.error, /HTTP 404/);
});

t.test('notification.slack posts each message to its webhook, only when the host is allowed', async (t) => {
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const yaml = `modules:
  - { name: bus, type: messaging.broker }
  - { name: slack, type: notification.slack, config: { webhookURL: "http://127.0.0.1:${port}/hook", channel: "#alerts" } }
workflows:
  messaging:
    subscriptions:
      - { topic: alerts, handler: slack }
pipelines:
  alert:
    trigger: { type: http, config: { path: /alert, method: POST } }
    steps:
      - { name: p, type: step.publish, config: { topic: alerts, payload: { level: "{{ .level }}" } } }
      - { name: r, type: step.json_response, config: { status: 202, body: { queued: true } } }
`;
  const refused = await start(t, yaml);
  t.equal((await call(`${refused.url}/alert`, { body: { level: 'high' } })).status, 202);
  const failed = await refused.until((l) => l.msg === 'slack notification failed');
  t.match(failed[0]?.err, new RegExp(`connecting to 127\\.0\\.0\\.1:${port} is not allowed`), 'without --allow-host the send is refused and logged');
  t.same(received, [], 'nothing reached the webhook');

  const allowed = await start(t, yaml, [`127.0.0.1:${port}`]);
  await call(`${allowed.url}/alert`, { body: { level: 'high' } });
  await allowed.until((l) => l.msg === 'Slack notification sent');
  t.same(received.map((b) => JSON.parse(b)), [{ channel: '#alerts', username: 'workflow-bot', text: '{"level":"high"}' }], 'the message goes to the webhook as {channel, username, text}');
});
