import { join } from 'node:path';
import t from 'tap';
import { call, startRuntime, stderrMatching } from './helpers/start-runtime.js';

t.test('auth.jwt, auth_required, jq, log, static files and env', async (t) => {
  const rt = await startRuntime(['--config', join(import.meta.dirname, 'fixtures', 'notes-auth-app.yaml')], {
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    GREETING: 'hi from env',
  });
  t.teardown(() => rt.stop());
  const u = (p: string) => `${rt.url}${p}`;

  const reg = await call(u('/api/auth/register'), { body: { email: 'ada@example.com', name: 'Ada', password: 'lovelace' } });
  t.equal(reg.status, 201, 'register creates a user');
  t.match(reg.body, { token: /^ey/, user: { id: '1', email: 'ada@example.com', name: 'Ada' } });
  t.notMatch(reg.text, /lovelace|passwordHash/, 'the password and its hash are never returned');
  t.equal((await call(u('/api/auth/register'), { body: { email: 'ada@example.com', password: 'x' } })).status, 409, 'duplicate email is refused');

  t.equal((await call(u('/api/auth/login'), { body: { email: 'ada@example.com', password: 'wrong' } })).status, 401, 'wrong password is 401');
  const login = await call(u('/api/auth/login'), { body: { email: 'ada@example.com', password: 'lovelace' } });
  t.equal(login.status, 200);
  const token = login.body.token as string;
  const [, payload] = token.split('.');
  t.match(JSON.parse(Buffer.from(payload, 'base64url').toString()), { sub: '1', email: 'ada@example.com', iss: 'notes-test' }, 'token carries the user and issuer');

  const profile = await call(u('/api/auth/profile'), { headers: { authorization: `Bearer ${token}` } });
  t.match(profile.body, { id: '1', email: 'ada@example.com', name: 'Ada' }, 'profile reads the bearer token');
  t.equal((await call(u('/api/auth/profile'))).status, 401, 'profile without a token is 401');

  const who = await call(u('/api/whoami'), { headers: { authorization: `Bearer ${token}` } });
  t.same(who.body, { user_id: '1', email: 'ada@example.com' }, 'auth_required exposes the claims to later steps');
  t.same((await call(u('/api/whoami'))).body, { error: 'unauthorized' });
  t.equal((await call(u('/api/whoami'), { headers: { authorization: 'Bearer not.a.token' } })).status, 401, 'a bad token is 401');
  t.equal((await call(u('/api/admin'), { headers: { authorization: `Bearer ${token}` } })).status, 403, 'a missing role is 403');
  t.equal((await call(u('/api/whoami-route'))).status, 401, 'an auth.jwt route middleware guards a route');
  t.same((await call(u('/api/whoami-route'), { headers: { authorization: `Bearer ${token}` } })).body, { via: 'route' });

  const stats = await call(u('/api/stats'), {
    body: { items: [{ name: 'pen', price: 1.5 }, { name: 'book', price: 12 }, { name: 'lamp', price: 30 }] },
    headers: { 'x-request-id': 'req-77' },
  });
  t.equal(stats.status, 200);
  t.same(stats.body, { total: 43.5, names: ['BOOK', 'LAMP'], greeting: 'hi from env' }, 'jq runs real jq filters; env reads the environment');
  t.match(await stderrMatching(rt, /"message":"stats for 3 items, request req-77"/), /"message":"stats for 3 items, request req-77"/, 'step.log writes the rendered message with the pipeline and step');
  t.match(await stderrMatching(rt, /"pipeline":"stats","step":"log-it"/), /"pipeline":"stats","step":"log-it"/);

  const badJq = await call(u('/api/bad-jq'), { body: { items: [] } });
  t.equal(badJq.status, 500, 'a jq runtime error is a 500');
  t.match(badJq.body, { error: /no way/, pipeline: 'bad-jq', step: 'boom' });
  const again = await call(u('/api/stats'), { body: { items: [{ name: 'a', price: 5 }] } });
  t.same(again.body.total, 5, 'jq keeps working after an error');

  const tmplErr = await call(u('/api/template-error'));
  t.equal(tmplErr.status, 500, 'a template error is a 500');
  t.match(tmplErr.body, { error: /template error: .*incompatible types for comparison/, pipeline: 'template-error', step: 'set' });
  t.match(await stderrMatching(rt, /"msg":"template failed"/), /"msg":"template failed"/, 'and is logged with the pipeline and step');

  t.same((await call(u('/api/greet?name=bob'))).body, { greeting: 'hello bob', upper: 'BOB' }, 'conditional if/then and a body written as a JSON template');
  t.same((await call(u('/api/greet'))).body, { greeting: 'hello stranger' }, 'conditional else');
  t.equal((await call(u('/api/greet?teapot=1'))).status, 418, 'json_response status can be a template');

  // As the engine's HTTP trigger: without a response step the pipeline's response_* values answer, else 202.
  const none = await call(u('/api/no-response'), { body: { message: 'ping' } });
  t.equal(none.status, 202, 'a pipeline that writes no response answers 202');
  t.same(none.body, { status: 'workflow triggered' }, 'with the engine\'s fallback body, not its values');
  const raw = await call(u('/api/raw-response'), { body: { message: 'ping' } });
  t.equal(raw.status, 201, 'response_status from the pipeline values sets the status');
  t.equal(raw.headers.get('x-echo'), 'ping', 'response_headers are rendered and sent');
  t.equal(raw.text, 'created ping', 'response_body is sent as written');

  await call(u('/api/visits/home'), { method: 'POST' });
  const home = await call(u('/api/visits/home'), { method: 'POST' });
  t.same(
    home.body,
    { page: 'home', visits: 2, note: '-', continued_after: 'sqlite: no such tabl' },
    'database.workflow with the sqlite driver; on_error: continue records the error and goes on; skip_if skips',
  );
  t.same((await call(u('/api/visits/about'), { method: 'POST' })).body.note, 'not home');

  const page = await fetch(u('/ui/'));
  t.equal(page.status, 200);
  t.match(await page.text(), /Notes app/, 'static.fileserver serves index.html');
  const css = await fetch(u('/ui/app.css'));
  t.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  t.equal(css.headers.get('cache-control'), 'public, max-age=3600');
  t.match(await (await fetch(u('/ui/some/client/route'))).text(), /Notes app/, 'unknown paths fall back to index.html (SPA)');
  t.equal((await fetch(u('/ui/missing.js'))).status, 404, 'missing assets are 404');
  t.equal((await fetch(u('/ui/..%2f..%2fnotes-auth-app.yaml'))).status, 403, 'paths cannot escape the root');
});
