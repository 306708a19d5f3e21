/**
 * reverseproxy: the modular framework's reverse proxy as the engine's examples configure it (a top-level
 * `reverseproxy:` section), confined to the hosts the target allows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createRuntime, type RuntimeOptions } from '../src/runtime.js';
import { call } from './helpers/start-runtime.js';

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

/** A backend on 127.0.0.1 that echoes what reached it, tagged with its name. */
async function backend(t: Test, name: string, status = 200) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
        res.end();
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(4096));
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json', connection: 'keep-alive', 'x-backend': name });
      res.end(JSON.stringify({ backend: name, url: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return { seen, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function start(t: Test, yaml: string, options: Partial<RuntimeOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-proxy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'app.yaml'), yaml);
  const rt = await createRuntime({ configFiles: [join(dir, 'app.yaml')], port: 0, digest: 'd1', ...options });
  t.teardown(() => rt.close());
  return rt.url;
}

t.test('routes, round-robin groups, composite routes and the default backend forward to allowed backends', async (t) => {
  const users = await backend(t, 'users');
  const a = await backend(t, 'a');
  const b = await backend(t, 'b');
  const down = await backend(t, 'down', 503);
  const url = await start(
    t,
    `modules:
  - { name: proxy, type: reverseproxy }
reverseproxy:
  backend_services:
    users: "http://${users.host}/v2"
    a: "http://${a.host}"
    b: "http://${b.host}"
    down: "http://${down.host}"
  routes:
    "/api/users/*": users
    "/api/rr/*": "a, b"
  composite_routes:
    "/api/both":
      pattern: "/api/both"
      backends: [down, b]
  default_backend: a
  request_timeout: 5s
`,
    { allowHosts: [users.host, a.host, b.host, down.host] },
  );
  const res = await call(`${url}/api/users/7?expand=1&expand=2`, { method: 'POST', body: { name: 'x' }, headers: { authorization: 'Bearer t', connection: 'close' } });
  t.equal(res.status, 200);
  t.same(res.body, { backend: 'users', url: '/v2/api/users/7?expand=1&expand=2' }, "the path joins the backend's base path; the query is kept");
  t.equal(res.headers.get('x-backend'), 'users', "the backend's headers come back");
  const seen = users.seen[0];
  t.equal(seen?.body, '{"name":"x"}', 'the body is forwarded');
  t.equal(seen?.headers.authorization, 'Bearer t', 'end-to-end headers are forwarded');
  t.equal(seen?.headers['x-forwarded-proto'], 'http');
  t.not(seen?.headers.connection, 'close', 'hop-by-hop headers are not');
  const rr = [await call(`${url}/api/rr/1`), await call(`${url}/api/rr/2`), await call(`${url}/api/rr/3`)].map((r) => r.body.backend);
  t.same(rr, ['a', 'b', 'a'], '"a, b" rotates');
  const both = await call(`${url}/api/both`);
  t.same(both.body.backend, 'b', 'a composite route answers with the first backend that answers 2xx, in order');
  t.equal(down.seen.length, 1, 'the first backend was asked');
  t.same((await call(`${url}/anything/else`)).body, { backend: 'a', url: '/anything/else' }, 'the default backend takes the rest');
  t.equal((await call(`${url}/health`)).status, 404, '/health is left to local handlers, as in the module');
});

t.test('a backend nobody allowed: the app starts, each request is refused with 502 and never leaves', async (t) => {
  const other = await backend(t, 'other');
  const url = await start(t, `modules:\n  - { name: proxy, type: reverseproxy }\nreverseproxy:\n  backend_services: { other: "http://${other.host}" }\n  default_backend: other\n`);
  const res = await call(`${url}/x`);
  t.equal(res.status, 502);
  t.match(res.body.error, /connecting to 127\.0\.0\.1:\d+ is not allowed; this runtime allows no outbound connections/);
  t.same(other.seen, [], 'nothing reached it');
});

t.test('redirects are passed back, never followed; responses past the size limit are cut', async (t) => {
  const a = await backend(t, 'a');
  const url = await start(t, `modules:\n  - { name: proxy, type: reverseproxy }\nreverseproxy:\n  backend_services: { a: "http://${a.host}" }\n  default_backend: a\n`, {
    allowHosts: [a.host],
    limits: { httpResponseBytes: 1024 },
  });
  const res = await fetch(`${url}/redirect`, { redirect: 'manual' });
  t.equal(res.status, 302);
  t.equal(res.headers.get('location'), 'http://169.254.169.254/latest/meta-data', 'the client gets the redirect; the runtime did not go there');
  await res.body?.cancel();
  const big = await fetch(`${url}/big`).then(
    async (r) => (await r.text()).length,
    () => -1,
  );
  t.ok(big < 4096, `a 4 KiB answer is not passed on whole past a 1 KiB limit (${big})`);
});

t.test('config the module cannot use is refused at start', async (t) => {
  const refused = async (section: string, message: RegExp) => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-proxy-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.yaml'), `modules:\n  - { name: proxy, type: reverseproxy }\nreverseproxy:\n${section}`);
    await t.rejects(createRuntime({ configFiles: [join(dir, 'app.yaml')], port: 0, digest: 'd' }), message);
  };
  await refused('  backend_services: { a: "file:///etc/passwd" }\n', /only http and https backends are allowed, not file:/);
  await refused('  backend_services: { a: "http://u:p@example.com" }\n', /credentials in URLs are not allowed/);
  await refused('  backend_services: { a: "http://example.com" }\n  routes: { "/x/*": b }\n', /routes\.\/x\/\*: backend "b" is not in backend_services/);
  await refused('  backend_services: { a: "http://example.com" }\n  default_backend: nope\n', /default_backend: backend "nope" is not in backend_services/);
});
